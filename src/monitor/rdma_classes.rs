//! RDMA counter classes: which `hw_counters` of an RDMA driver mean retransmits, timeouts,
//! sequence errors, receive buffers run out, congestion notifications (CNPs) sent or handled,
//! or ECN-marked packets. The table is data (`rdma_classes.yaml`, embedded), in the style of
//! the driver counter classes of [`super::classes`].

use std::fmt;

use super::classes::Pattern;
use crate::model::rdma::RdmaDevice;

/// The embedded table.
pub const BUILTIN: &str = include_str!("rdma_classes.yaml");

/// A semantic class of RDMA counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RdmaClass {
    /// Retransmissions (and retries that ran out).
    Retransmits,
    /// Acknowledgement timeouts.
    Timeouts,
    /// Packets out of sequence (loss in the fabric).
    SequenceErrors,
    /// No receive buffer posted (RNR).
    OutOfBuffer,
    /// Congestion notification packets sent (notification point).
    CnpSent,
    /// Congestion notification packets handled (reaction point: the sender slowed down).
    CnpHandled,
    /// RoCE packets that arrived ECN-marked.
    EcnMarked,
}

/// Every class, in display order.
pub const ALL: [RdmaClass; 7] = [
    RdmaClass::Retransmits,
    RdmaClass::Timeouts,
    RdmaClass::SequenceErrors,
    RdmaClass::OutOfBuffer,
    RdmaClass::CnpSent,
    RdmaClass::CnpHandled,
    RdmaClass::EcnMarked,
];

impl RdmaClass {
    /// The name used in tables, series labels and the data file.
    pub fn name(self) -> &'static str {
        match self {
            RdmaClass::Retransmits => "retransmits",
            RdmaClass::Timeouts => "timeouts",
            RdmaClass::SequenceErrors => "sequence_errors",
            RdmaClass::OutOfBuffer => "out_of_buffer",
            RdmaClass::CnpSent => "cnp_sent",
            RdmaClass::CnpHandled => "cnp_handled",
            RdmaClass::EcnMarked => "ecn_marked",
        }
    }

    /// The class with this name.
    pub fn parse(name: &str) -> Option<Self> {
        ALL.iter().copied().find(|c| c.name() == name)
    }

    /// True for the classes that mean loss or recovery from it.
    pub fn is_error(self) -> bool {
        matches!(
            self,
            RdmaClass::Retransmits
                | RdmaClass::Timeouts
                | RdmaClass::SequenceErrors
                | RdmaClass::OutOfBuffer
        )
    }
}

impl fmt::Display for RdmaClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The tables: per driver, patterns in file order.
#[derive(Debug, Clone)]
pub struct RdmaTables {
    drivers: Vec<(String, Vec<(Pattern, RdmaClass)>)>,
}

impl RdmaTables {
    /// Parses a table file; an error names the driver and counter.
    pub fn parse(text: &str) -> Result<Self, String> {
        let v: yaml_serde::Value = yaml_serde::from_str(text).map_err(|e| e.to_string())?;
        let top = v.as_mapping().ok_or("the table is not a mapping")?;
        let mut drivers = Vec::new();
        for (k, entries) in top {
            let driver = k.as_str().ok_or("a driver name is not a string")?;
            let map = entries
                .as_mapping()
                .ok_or_else(|| format!("{driver}: not a mapping of counters to classes"))?;
            let mut rows = Vec::new();
            for (pat, class) in map {
                let pat = pat
                    .as_str()
                    .ok_or_else(|| format!("{driver}: a counter name is not a string"))?;
                let class_name = class
                    .as_str()
                    .ok_or_else(|| format!("{driver}.{pat}: the class is not a string"))?;
                let class = RdmaClass::parse(class_name)
                    .ok_or_else(|| format!("{driver}.{pat}: unknown class {class_name:?}"))?;
                rows.push((
                    Pattern::parse(pat).map_err(|e| format!("{driver}.{pat}: {e}"))?,
                    class,
                ));
            }
            drivers.push((driver.to_string(), rows));
        }
        Ok(Self { drivers })
    }

    /// The embedded table.
    pub fn builtin() -> Self {
        Self::parse(BUILTIN).unwrap_or_else(|e| panic!("embedded rdma_classes.yaml: {e}"))
    }

    /// The class of a counter of a driver's table.
    pub fn classify(&self, driver: &str, counter: &str) -> Option<RdmaClass> {
        let (_, rows) = self.drivers.iter().find(|(d, _)| d == driver)?;
        rows.iter()
            .find(|(p, _)| p.matches(counter).is_some())
            .map(|(_, c)| *c)
    }
}

/// The table name of a device: its driver (`mlx5_core`), else the letters its name starts
/// with (`rxe0` -> `rxe`, `siw1` -> `siw`).
pub fn table_name(dev: &RdmaDevice) -> String {
    table_for(dev.driver.as_deref(), &dev.name)
}

/// The table name of a device by its driver and name (see [`table_name`]).
pub fn table_for(driver: Option<&str>, device: &str) -> String {
    driver.map_or_else(
        || {
            device
                .trim_end_matches(|c: char| c.is_ascii_digit() || c == '_')
                .to_string()
        },
        str::to_string,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_table_classifies_mlx5_and_rxe() {
        let t = RdmaTables::builtin();
        let c = |d, n| t.classify(d, n);
        assert_eq!(
            c("mlx5_core", "local_ack_timeout_err"),
            Some(RdmaClass::Timeouts)
        );
        assert_eq!(
            c("mlx5_core", "out_of_sequence"),
            Some(RdmaClass::SequenceErrors)
        );
        assert_eq!(
            c("mlx5_core", "out_of_buffer"),
            Some(RdmaClass::OutOfBuffer)
        );
        assert_eq!(c("mlx5_core", "np_cnp_sent"), Some(RdmaClass::CnpSent));
        assert_eq!(
            c("mlx5_core", "rp_cnp_handled"),
            Some(RdmaClass::CnpHandled)
        );
        assert_eq!(
            c("mlx5_core", "np_ecn_marked_roce_packets"),
            Some(RdmaClass::EcnMarked)
        );
        assert_eq!(
            c("rxe", "completer_retry_err"),
            Some(RdmaClass::Retransmits)
        );
        assert_eq!(c("rxe", "rcvd_seq_err"), Some(RdmaClass::SequenceErrors));
        assert_eq!(c("rxe", "sent_pkts"), None);
        assert_eq!(c("bnxt_re", "anything"), None);
        assert!(RdmaClass::Retransmits.is_error());
        assert!(!RdmaClass::CnpSent.is_error());
    }

    #[test]
    fn bad_tables_name_the_entry() {
        let e = RdmaTables::parse("rxe:\n  foo: bogus\n").expect_err("bad class");
        assert!(e.contains("rxe.foo"), "{e}");
        assert!(RdmaTables::parse("- a\n").is_err());
    }

    #[test]
    fn table_name_falls_back_to_the_name_prefix() {
        let mut d = crate::model::rdma::test_device("rxe0", "virtio0", None);
        d.driver = None;
        assert_eq!(table_name(&d), "rxe");
        d.driver = Some("mlx5_core".into());
        assert_eq!(table_name(&d), "mlx5_core");
    }
}
