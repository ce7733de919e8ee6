//! RDMA hardware counters in the monitor engine: per port, the deltas between the slow reads
//! that carry them, turned into rates at each view and summed by the classes of
//! `rdma_classes.yaml` (retransmits, timeouts, sequence errors, out of buffer, CNPs sent and
//! handled, ECN marked). Pure, like the engine: time is the samples' `t_ns`.

use std::sync::Arc;

use super::rate::CounterRates;
use super::rdma_classes::{table_for, RdmaClass, RdmaTables, ALL};
use super::sample::{CounterNames, RdmaPortSample, Sample};
use super::totals::RdmaPortTotals;
use super::view::{ClassRate, RdmaClassRate, RdmaPortView};

/// One port as the slow reads showed it.
#[derive(Debug)]
struct PortState {
    device: String,
    port: u32,
    netdev: Option<String>,
    /// The class table's name (driver, else the device name's prefix).
    table: String,
    present: bool,
    names: Option<CounterNames>,
    classes: Vec<Option<RdmaClass>>,
    /// Values, advances and rates (kept when no slow read came since).
    c: CounterRates,
}

impl PortState {
    fn new(s: &RdmaPortSample) -> Self {
        Self {
            device: s.device.clone(),
            port: s.port,
            netdev: s.netdev.clone(),
            table: table_for(s.driver.as_deref(), &s.device),
            present: true,
            names: None,
            classes: Vec::new(),
            c: CounterRates::default(),
        }
    }

    fn ingest(&mut self, tables: &RdmaTables, s: &RdmaPortSample, t: u64) {
        self.present = true;
        self.netdev.clone_from(&s.netdev);
        let names = &s.counters.names;
        let same = self
            .names
            .as_ref()
            .is_some_and(|n| Arc::ptr_eq(n, names) || **n == **names);
        if !same {
            self.table = table_for(s.driver.as_deref(), &s.device);
            self.classes = names
                .iter()
                .map(|n| tables.classify(&self.table, n))
                .collect();
            self.names = Some(names.clone());
            self.c.reset(names.len());
        }
        let values = &s.counters.values;
        if values.len() != self.c.len() {
            return;
        }
        // A counter that went backwards (the device was re-created under the same name) is
        // re-based, not counted.
        self.c.advance(t, values, |_, _| {});
    }

    fn view(&mut self) -> RdmaPortView {
        if !self.c.settle() && !self.present {
            self.c.rates.iter_mut().for_each(|r| *r = 0.0);
        }
        let mut classes: Vec<RdmaClassRate> = Vec::new();
        let mut counters = Vec::new();
        if let (Some(names), Some((_, values))) = (&self.names, &self.c.prev) {
            for class in ALL {
                let idx: Vec<usize> = (0..names.len())
                    .filter(|&i| self.classes[i] == Some(class))
                    .collect();
                if idx.is_empty() {
                    continue;
                }
                classes.push(RdmaClassRate {
                    class: class.name().to_string(),
                    rate: idx.iter().map(|&i| self.c.rates[i]).sum(),
                    total: idx.iter().map(|&i| values[i]).sum(),
                });
            }
            for (i, name) in names.iter().enumerate() {
                counters.push(ClassRate {
                    class: self.classes[i].map_or("raw", RdmaClass::name).to_string(),
                    counter: name.clone(),
                    rate: self.c.rates[i],
                    total: values[i],
                });
            }
        }
        RdmaPortView {
            device: self.device.clone(),
            port: self.port,
            netdev: self.netdev.clone(),
            driver: self.table.clone(),
            present: self.present,
            classes,
            counters,
        }
    }

    fn totals(&self) -> Option<RdmaPortTotals> {
        let (names, (_, values)) = (self.names.as_ref()?, self.c.prev.as_ref()?);
        Some(RdmaPortTotals {
            device: self.device.clone(),
            port: self.port,
            netdev: self.netdev.clone(),
            driver: self.table.clone(),
            counters: names
                .iter()
                .zip(values)
                .zip(&self.classes)
                .map(|((n, v), c)| (n.clone(), c.map(RdmaClass::name), *v))
                .collect(),
        })
    }
}

/// The RDMA ports the engine has seen.
#[derive(Debug)]
pub struct RdmaRates {
    tables: RdmaTables,
    ports: Vec<PortState>,
}

impl Default for RdmaRates {
    fn default() -> Self {
        Self {
            tables: RdmaTables::builtin(),
            ports: Vec::new(),
        }
    }
}

impl RdmaRates {
    /// Takes the RDMA counters of a sample. A sample with slow reads but without a port the
    /// engine knows means the port is gone (its baseline is dropped).
    pub fn ingest(&mut self, s: &Sample) {
        for r in &s.rdma {
            let pos = match self
                .ports
                .binary_search_by(|p| (p.device.as_str(), p.port).cmp(&(&r.device, r.port)))
            {
                Ok(p) => p,
                Err(p) => {
                    self.ports.insert(p, PortState::new(r));
                    p
                }
            };
            self.ports[pos].ingest(&self.tables, r, s.t_ns);
        }
        if s.has_slow() {
            for p in &mut self.ports {
                if p.present
                    && !s
                        .rdma
                        .iter()
                        .any(|r| r.device == p.device && r.port == p.port)
                {
                    p.present = false;
                    p.c.prev = None;
                }
            }
        }
    }

    /// Rates since the previous view, per port.
    pub fn view(&mut self) -> Vec<RdmaPortView> {
        self.ports.iter_mut().map(PortState::view).collect()
    }

    /// The counters now of the present ports.
    pub fn totals(&self) -> Vec<RdmaPortTotals> {
        self.ports
            .iter()
            .filter(|p| p.present)
            .filter_map(PortState::totals)
            .collect()
    }

    /// Forgets ports that are gone; keeps the baselines of the others.
    pub fn reset(&mut self) {
        self.ports.retain(|p| p.present);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::monitor::sample::DriverStats;

    fn sample(t_ms: u64, ports: &[(&str, &[(&str, u64)])]) -> Sample {
        Sample {
            t_ns: t_ms * 1_000_000,
            softnet: Some(crate::monitor::SoftnetTotals::default()),
            rdma: ports
                .iter()
                .map(|(dev, counters)| RdmaPortSample {
                    device: (*dev).to_string(),
                    port: 1,
                    driver: dev.starts_with("mlx5").then(|| "mlx5_core".to_string()),
                    netdev: Some("eth0".into()),
                    counters: DriverStats {
                        names: counters.iter().map(|(n, _)| (*n).to_string()).collect(),
                        values: counters.iter().map(|(_, v)| *v).collect(),
                    },
                })
                .collect(),
            ..Sample::default()
        }
    }

    #[test]
    fn counters_become_rates_summed_by_class() {
        let mut rates = RdmaRates::default();
        let c = |retry: u64, seq: u64, pkts: u64| {
            [
                ("completer_retry_err", retry),
                ("rcvd_seq_err", seq),
                ("retry_exceeded_err", retry / 10),
                ("sent_pkts", pkts),
            ]
        };
        rates.ingest(&sample(0, &[("rxe0", &c(0, 0, 0))]));
        rates.ingest(&sample(500, &[("rxe0", &c(60, 5, 1000))]));
        rates.ingest(&sample(1000, &[("rxe0", &c(120, 5, 2000))]));
        let v = rates.view();
        assert_eq!(v.len(), 1);
        let p = &v[0];
        assert_eq!((p.key().as_str(), p.driver.as_str()), ("rxe0/1", "rxe"));
        let class = |n: &str| p.classes.iter().find(|c| c.class == n).expect(n);
        // 120 retries + 12 exceeded in 1 s.
        assert!((class("retransmits").rate - 132.0).abs() < 1e-9, "{p:?}");
        assert_eq!(class("retransmits").total, 132);
        assert!((class("sequence_errors").rate - 5.0).abs() < 1e-9);
        // rxe's table has no timeouts class.
        assert!(p.classes.iter().all(|c| c.class != "timeouts"));
        let raw = p
            .counters
            .iter()
            .find(|c| c.counter == "sent_pkts")
            .expect("raw");
        assert_eq!((raw.class.as_str(), raw.rate), ("raw", 2000.0));
        // Nothing since: the rates of the last view stay until a slow read comes.
        assert!((rates.view()[0].classes[0].rate - 132.0).abs() < 1e-9);
        let t = rates.totals();
        assert_eq!(
            t[0].counters[0],
            ("completer_retry_err".into(), Some("retransmits"), 120)
        );
    }

    #[test]
    fn a_reset_counts_nothing_and_a_vanished_port_goes_grey() {
        let mut r = RdmaRates::default();
        r.ingest(&sample(
            0,
            &[("mlx5_0", &[("out_of_sequence", 5_000_000_000)])],
        ));
        r.ingest(&sample(1000, &[("mlx5_0", &[("out_of_sequence", 3)])]));
        let v = r.view();
        assert_eq!(v[0].driver, "mlx5_core");
        assert_eq!(v[0].classes[0].class, "sequence_errors");
        assert!(v[0].classes[0].rate.abs() < 1e-12, "a reset counts nothing");
        // A slow read without the port: gone; its totals are no longer exported.
        r.ingest(&sample(2000, &[]));
        assert!(!r.view()[0].present);
        assert!(r.totals().is_empty());
        r.reset();
        assert!(r.view().is_empty());
    }
}
