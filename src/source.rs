//! Where a command's node state comes from: the live kernel (or a fixture root), or a
//! snapshot file.

use std::path::Path;

use anyhow::{bail, Context};

use crate::cli::GlobalArgs;
use crate::model::{NodeState, SNAPSHOT_SCHEMA};
use crate::sys::{collect, SysRoot};

/// The sysfs/procfs roots named on the command line, defaulting to the live kernel's.
pub fn root(g: &GlobalArgs) -> SysRoot {
    let live = SysRoot::live();
    SysRoot::new(
        g.sysfs_root.clone().unwrap_or(live.sysfs),
        g.procfs_root.clone().unwrap_or(live.procfs),
    )
}

/// Loads the node state from a snapshot file.
pub fn load_snapshot(path: &Path) -> anyhow::Result<NodeState> {
    let text = crate::input::read_text(path, crate::input::MAX_SNAPSHOT_BYTES, "snapshots")
        .with_context(|| format!("failed to read snapshot {}", path.display()))?;
    let state: NodeState = serde_json::from_str(&text).map_err(|e| {
        // serde_json ends its message with " at line L column C"; the location leads instead.
        let msg = e.to_string();
        let msg = msg
            .rsplit_once(" at line ")
            .map_or(msg.as_str(), |(m, _)| m);
        // A file that is not a snapshot is named, not quoted.
        let msg = crate::input::shorten_quoted(msg);
        anyhow::anyhow!(
            "failed to parse snapshot {}:{}:{}: {msg}",
            path.display(),
            e.line(),
            e.column()
        )
    })?;
    if state.schema != SNAPSHOT_SCHEMA {
        bail!(
            "snapshot {} has format version {}, this dpuctl reads version {SNAPSHOT_SCHEMA}",
            path.display(),
            state.schema
        );
    }
    Ok(state)
}

/// The node state for a read command: the snapshot `from` when given, else read from `root`,
/// restricted to the named interfaces (all when `names` is empty). A name that matches no
/// interface is an error that lists the ones there are.
pub fn load(root: &SysRoot, from: Option<&Path>, names: &[String]) -> anyhow::Result<NodeState> {
    let mut state = match from {
        Some(p) => load_snapshot(p)?,
        None => collect::collect(root, names)?,
    };
    if !names.is_empty() {
        check_names(&state, names)?;
        state.interfaces.retain(|i| names.contains(&i.name));
    }
    Ok(state)
}

/// The node state `topo` and `nccl` work from: the snapshot `from` when given, else the GPU
/// fabric read from `root` ([`collect::collect_fabric`]: no ethtool, qdiscs, IRQs or sysctls,
/// the RDMA devices read as `reads` says).
pub fn load_fabric(
    root: &SysRoot,
    from: Option<&Path>,
    reads: crate::sys::rdma::RdmaReads,
) -> anyhow::Result<NodeState> {
    Ok(match from {
        Some(p) => load_snapshot(p)?,
        None => collect::collect_fabric(root, reads)?,
    })
}

/// Fails with a one-line error naming the first unknown interface and the known ones.
pub fn check_names(state: &NodeState, names: &[String]) -> anyhow::Result<()> {
    for n in names {
        if state.interface(n).is_none() {
            let known: Vec<&str> = state.interfaces.iter().map(|i| i.name.as_str()).collect();
            bail!(
                "no interface {n:?} on this node (have: {})",
                known.join(", ")
            );
        }
    }
    Ok(())
}
