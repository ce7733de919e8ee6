//! Pure computations over the GPU fabric in the model: `PCIe` relations between GPUs and NICs
//! (`topo`) and the NCCL settings that follow from the node (`nccl`). No I/O.

pub mod nccl;
pub mod relation;
pub mod topo;

pub use relation::{relation, PcieRel};
