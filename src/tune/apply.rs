//! Applying steps in order, and undoing them: on a failure at step k the steps before it are
//! reverted in reverse order with their old values.
//!
//! The writes go through an [`Applier`]; the real one is [`crate::sys::write::Writer`], tests
//! inject failures with their own.

use std::fmt;

use crate::model::{Knob, Value};
use crate::sys::collect::collect_settings;
use crate::sys::sysctl;
use crate::sys::write::{sysctl_text, WriteError, Writer};

use super::journal::Derived;
use super::plan::{current_value, render_value, Step};

/// Something that changes settings: the node, or a fake in tests.
pub trait Applier {
    /// Sets `knob` to `value`.
    fn apply(&mut self, knob: &Knob, value: &Value) -> Result<(), WriteError>;

    /// Checks, without changing anything, that `knob` can be set (privilege, file present).
    fn preflight(&mut self, _knob: &Knob, _value: &Value) -> Result<(), WriteError> {
        Ok(())
    }

    /// Reads the current value of each knob, in order: the read-back after a transaction
    /// and after a revert (a driver may take a value and silently not apply it, and one
    /// setting may change another).
    fn read(&mut self, knobs: &[Knob]) -> Vec<Result<Value, String>>;

    /// The kernel state that `steps` may change as a side effect, as it is now.
    fn derived(&mut self, _steps: &[Step]) -> Result<Vec<Derived>, WriteError> {
        Ok(Vec::new())
    }

    /// Puts derived state back as [`Applier::derived`] read it.
    fn restore(&mut self, _d: &Derived) -> Result<(), WriteError> {
        Ok(())
    }
}

impl Applier for Writer {
    fn apply(&mut self, knob: &Knob, value: &Value) -> Result<(), WriteError> {
        Writer::apply(self, knob, value)
    }

    fn preflight(&mut self, knob: &Knob, value: &Value) -> Result<(), WriteError> {
        Writer::preflight(self, knob, value)
    }

    fn read(&mut self, knobs: &[Knob]) -> Vec<Result<Value, String>> {
        let rdma = |k: &Knob| matches!(k, Knob::RdmaCm { .. } | Knob::RdmaCmDir { .. });
        let mut names: Vec<String> = knobs
            .iter()
            .filter(|k| !matches!(k, Knob::Sysctl { .. }) && !rdma(k))
            .map(|k| k.object().to_string())
            .collect();
        names.sort();
        names.dedup();
        // RDMA devices are read with every collection (an empty list reads all interfaces).
        let state = if names.is_empty() && !knobs.iter().any(rdma) {
            Err("no interface".to_string())
        } else {
            collect_settings(self.root(), &names).map_err(|e| e.to_string())
        };
        knobs
            .iter()
            .map(|k| match (k, &state) {
                (Knob::Sysctl { name }, _) => sysctl::read(self.root(), name)
                    .map(|v| Value::Text(sysctl::fold_whitespace(&v)))
                    .map_err(|e| e.clone()),
                (_, Ok(state)) => current_value(state, k),
                (_, Err(e)) => Err(e.clone()),
            })
            .collect()
    }

    fn derived(&mut self, steps: &[Step]) -> Result<Vec<Derived>, WriteError> {
        let mut ifaces: Vec<&str> = steps
            .iter()
            .filter_map(|s| match &s.knob {
                Knob::Feature { iface, .. } => Some(iface.as_str()),
                _ => None,
            })
            .collect();
        ifaces.sort_unstable();
        ifaces.dedup();
        ifaces
            .into_iter()
            .map(|i| {
                Ok(Derived::FeaturesWanted {
                    iface: i.to_string(),
                    wanted: self.wanted_features(i)?,
                })
            })
            .collect()
    }

    fn restore(&mut self, d: &Derived) -> Result<(), WriteError> {
        match d {
            Derived::FeaturesWanted { iface, wanted } => {
                self.restore_wanted_features(iface, wanted)
            }
        }
    }
}

impl<A: Applier + ?Sized> Applier for &mut A {
    fn apply(&mut self, knob: &Knob, value: &Value) -> Result<(), WriteError> {
        (**self).apply(knob, value)
    }

    fn preflight(&mut self, knob: &Knob, value: &Value) -> Result<(), WriteError> {
        (**self).preflight(knob, value)
    }

    fn read(&mut self, knobs: &[Knob]) -> Vec<Result<Value, String>> {
        (**self).read(knobs)
    }

    fn derived(&mut self, steps: &[Step]) -> Result<Vec<Derived>, WriteError> {
        (**self).derived(steps)
    }

    fn restore(&mut self, d: &Derived) -> Result<(), WriteError> {
        (**self).restore(d)
    }
}

/// True when a value read back is the value set (sysctl text compares as the kernel writes
/// it: `4096 87380 16777216` and a tab-separated read are the same).
pub fn same_value(a: &Value, b: &Value) -> bool {
    a == b || sysctl_text(a) == sysctl_text(b)
}

/// The steps whose knob does not read `want(step)` now: one [`Unrestored`] each, with what it
/// reads instead (or why it could not be read).
pub fn verify(
    applier: &mut dyn Applier,
    steps: &[Step],
    want: fn(&Step) -> &Value,
) -> Vec<Unrestored> {
    let knobs: Vec<Knob> = steps.iter().map(|s| s.knob.clone()).collect();
    let got = applier.read(&knobs);
    steps
        .iter()
        .zip(got)
        .filter_map(|(s, r)| {
            let w = want(s);
            let cause = match r {
                Ok(v) if same_value(&v, w) || super::plan::satisfied(&s.knob, &v, w) => {
                    return None
                }
                Ok(v) => format!("reads {} instead", render_value(&v)),
                Err(e) => format!("cannot be read back: {e}"),
            };
            Some(Unrestored {
                knob: s.knob.clone(),
                value: w.clone(),
                cause,
            })
        })
        .collect()
}

/// A setting that could not be put back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unrestored {
    /// The knob.
    pub knob: Knob,
    /// The value it should have gone back to.
    pub value: Value,
    /// Why it did not.
    pub cause: String,
}

impl fmt::Display for Unrestored {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} (back to {}): {}",
            self.knob,
            render_value(&self.value),
            self.cause
        )
    }
}

/// A failed apply, after the revert.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApplyError {
    /// Index of the step that failed (0-based).
    pub index: usize,
    /// Number of steps.
    pub total: usize,
    /// The knob of the failed step.
    pub knob: Knob,
    /// The value it was to get.
    pub value: Value,
    /// The cause.
    pub cause: String,
    /// True when the cause is a lack of privilege.
    pub permission: bool,
    /// How many steps had been applied when it stopped (and were then reverted).
    pub applied: usize,
    /// Settings the revert could not restore; empty when the node is back where it was.
    pub unrestored: Vec<Unrestored>,
}

impl std::error::Error for ApplyError {}

impl fmt::Display for ApplyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "step {} of {} ({} -> {}) failed: {}; ",
            self.index + 1,
            self.total,
            self.knob,
            render_value(&self.value),
            self.cause
        )?;
        if !self.unrestored.is_empty() {
            let list: Vec<String> = self.unrestored.iter().map(ToString::to_string).collect();
            return write!(
                f,
                "reverting failed for {} setting{}, which are NOT back where they were: {}",
                self.unrestored.len(),
                if self.unrestored.len() == 1 { "" } else { "s" },
                list.join("; ")
            );
        }
        match self.applied {
            0 => f.write_str("nothing had been changed, the node is as it was"),
            1 => f.write_str(
                "the 1 change made before it was reverted, the node is back where it was",
            ),
            n => write!(
                f,
                "the {n} changes made before it were reverted, the node is back where it was"
            ),
        }
    }
}

/// Applies `steps` in order; `after_each(i)` runs after step `i` is in place (the journal
/// update). On the first failure (of a step or of `after_each`) the steps applied so far are
/// reverted in reverse order and the error tells which step failed and what, if anything,
/// could not be restored.
pub fn apply_steps(
    applier: &mut dyn Applier,
    steps: &[Step],
    after_each: &mut dyn FnMut(usize) -> Result<(), String>,
) -> Result<(), Box<ApplyError>> {
    for (i, s) in steps.iter().enumerate() {
        let (cause, permission, applied) = match applier.apply(&s.knob, &s.new) {
            Err(e) => (e.to_string(), e.is_permission(), i),
            Ok(()) => match after_each(i) {
                Ok(()) => continue,
                // The step is in place but not journaled: undo it too.
                Err(e) => (format!("cannot update the journal: {e}"), false, i + 1),
            },
        };
        let unrestored = revert(applier, &steps[..applied]);
        return Err(Box::new(ApplyError {
            index: i,
            total: steps.len(),
            knob: s.knob.clone(),
            value: s.new.clone(),
            cause,
            permission,
            applied,
            unrestored,
        }));
    }
    Ok(())
}

/// Puts the old values of `applied` back, last step first, carrying on past failures; returns
/// the settings that could not be restored.
pub fn revert(applier: &mut dyn Applier, applied: &[Step]) -> Vec<Unrestored> {
    applied
        .iter()
        .rev()
        .filter_map(|s| {
            applier.apply(&s.knob, &s.old).err().map(|e| Unrestored {
                knob: s.knob.clone(),
                value: s.old.clone(),
                cause: e.to_string(),
            })
        })
        .collect()
}

#[cfg(test)]
pub(crate) mod fake {
    //! An in-memory node for tests: a map of knob values, with failures on request.

    use std::collections::BTreeMap;

    use super::{Applier, Knob, Value, WriteError};

    /// A fake node.
    #[derive(Debug, Clone, Default)]
    pub struct FakeNode {
        /// Current values.
        pub values: BTreeMap<Knob, Value>,
        /// Every successful write, in order.
        pub log: Vec<(Knob, Value)>,
        /// Writes of these (knob, value) pairs fail.
        pub fail: Vec<(Knob, Value)>,
        /// Preflight of these knobs fails with a permission error.
        pub deny: Vec<Knob>,
        /// Writes of these (knob, value) pairs succeed without changing anything, as a
        /// driver that takes a value and ignores it.
        pub silent: Vec<(Knob, Value)>,
    }

    impl Applier for FakeNode {
        fn apply(&mut self, knob: &Knob, value: &Value) -> Result<(), WriteError> {
            if self.fail.iter().any(|(k, v)| k == knob && v == value) {
                return Err(WriteError::Failed {
                    object: knob.to_string(),
                    value: value.to_string(),
                    reason: "injected failure".into(),
                });
            }
            if !self.silent.iter().any(|(k, v)| k == knob && v == value) {
                self.values.insert(knob.clone(), value.clone());
            }
            self.log.push((knob.clone(), value.clone()));
            Ok(())
        }

        fn read(&mut self, knobs: &[Knob]) -> Vec<Result<Value, String>> {
            knobs
                .iter()
                .map(|k| self.values.get(k).cloned().ok_or_else(|| format!("no {k}")))
                .collect()
        }

        fn preflight(&mut self, knob: &Knob, _value: &Value) -> Result<(), WriteError> {
            if self.deny.contains(knob) {
                return Err(WriteError::Permission {
                    object: knob.to_string(),
                });
            }
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::fake::FakeNode;
    use super::*;
    use crate::model::CpuSet;

    /// Six steps over several knob kinds, from the fake's initial values to new ones.
    pub(crate) fn node_and_steps() -> (FakeNode, Vec<Step>) {
        let knobs_values = [
            (
                Knob::Sysctl {
                    name: "net.core.somaxconn".into(),
                },
                Value::Text("4096".into()),
                Value::Text("8192".into()),
            ),
            (
                Knob::Channel {
                    iface: "a".into(),
                    field: "rx".into(),
                },
                Value::Num(4),
                Value::Num(2),
            ),
            (
                Knob::Rps {
                    iface: "a".into(),
                    queue: 0,
                },
                Value::Cpus(CpuSet::new()),
                Value::Cpus(CpuSet::from_cpus([0, 1])),
            ),
            (
                Knob::Mtu { iface: "a".into() },
                Value::Num(1500),
                Value::Num(9000),
            ),
            (
                Knob::Feature {
                    iface: "a".into(),
                    name: "rx-gro".into(),
                },
                Value::Bool(false),
                Value::Bool(true),
            ),
            (
                Knob::TxQueueLen { iface: "a".into() },
                Value::Num(1000),
                Value::Num(5000),
            ),
        ];
        let mut node = FakeNode::default();
        let mut steps = Vec::new();
        for (k, old, new) in knobs_values {
            node.values.insert(k.clone(), old.clone());
            steps.push(Step {
                resets_link: k.resets_link(),
                knob: k,
                old,
                new,
            });
        }
        (node, steps)
    }

    #[test]
    fn success_applies_in_order_and_journals_each_step() {
        let (mut node, steps) = node_and_steps();
        let mut journaled = Vec::new();
        apply_steps(&mut node, &steps, &mut |i| {
            journaled.push(i);
            Ok(())
        })
        .expect("apply");
        assert_eq!(journaled, [0, 1, 2, 3, 4, 5]);
        let order: Vec<&Knob> = node.log.iter().map(|(k, _)| k).collect();
        let want: Vec<&Knob> = steps.iter().map(|s| &s.knob).collect();
        assert_eq!(order, want);
        for s in &steps {
            assert_eq!(node.values[&s.knob], s.new);
        }
    }

    #[test]
    fn failure_at_every_step_restores_the_initial_state_in_reverse_order() {
        let (initial, steps) = node_and_steps();
        for k in 0..steps.len() {
            let mut node = initial.clone();
            node.fail = vec![(steps[k].knob.clone(), steps[k].new.clone())];
            let e = apply_steps(&mut node, &steps, &mut |_| Ok(())).expect_err("injected");
            assert_eq!(node.values, initial.values, "failure at step {k}");
            assert_eq!(e.index, k);
            assert_eq!(e.applied, k);
            assert!(e.unrestored.is_empty());
            // The log: steps 0..k forward, then the same knobs backward with old values.
            let mut want: Vec<(Knob, Value)> = steps[..k]
                .iter()
                .map(|s| (s.knob.clone(), s.new.clone()))
                .collect();
            want.extend(
                steps[..k]
                    .iter()
                    .rev()
                    .map(|s| (s.knob.clone(), s.old.clone())),
            );
            assert_eq!(node.log, want, "failure at step {k}");
            let msg = e.to_string();
            assert!(
                msg.starts_with(&format!("step {} of 6 ({}", k + 1, steps[k].knob)),
                "{msg}"
            );
            assert!(msg.contains("injected failure"), "{msg}");
            if k == 0 {
                assert!(msg.ends_with("nothing had been changed, the node is as it was"));
            } else {
                assert!(msg.ends_with("the node is back where it was"), "{msg}");
            }
        }
    }

    #[test]
    fn journal_failure_after_step_k_reverts_step_k_too() {
        let (initial, steps) = node_and_steps();
        for k in 0..steps.len() {
            let mut node = initial.clone();
            let e = apply_steps(&mut node, &steps, &mut |i| {
                if i == k {
                    Err("disk full".into())
                } else {
                    Ok(())
                }
            })
            .expect_err("journal");
            assert_eq!(node.values, initial.values, "journal failure at {k}");
            assert_eq!(e.applied, k + 1);
            assert!(e.cause.contains("disk full"));
        }
    }

    #[test]
    fn a_failed_revert_is_named() {
        let (initial, steps) = node_and_steps();
        let mut node = initial.clone();
        node.fail = vec![
            (steps[4].knob.clone(), steps[4].new.clone()),
            (steps[1].knob.clone(), steps[1].old.clone()),
        ];
        let e = apply_steps(&mut node, &steps, &mut |_| Ok(())).expect_err("fails");
        assert_eq!(e.unrestored.len(), 1);
        assert_eq!(e.unrestored[0].knob, steps[1].knob);
        let msg = e.to_string();
        assert!(
            msg.contains("reverting failed for 1 setting, which are NOT back where they were: a channels rx (back to 4): "),
            "{msg}"
        );
        // Everything else went back.
        let mut want: BTreeMap<Knob, Value> = initial.values.clone();
        want.insert(steps[1].knob.clone(), steps[1].new.clone());
        assert_eq!(node.values, want);
    }
}
