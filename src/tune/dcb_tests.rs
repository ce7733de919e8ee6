//! The DCB knobs through a whole transaction: the shipped `roce-lossless` profile resolved on
//! the mlx5 fixture node, planned, applied, read back, checked, drifted and rolled back, with
//! the DCB requests answered by a stand-in for the kernel's dcbnl
//! ([`crate::sys::dcb_write::fake::FakeDcb`], on the `dcbnl.h` byte layouts) and global pause
//! by an in-memory value. No driver on a test machine has DCB; what is tested here is that a
//! failure at any step (hardware ETS, PFC, APP add, APP delete, trust, pause) leaves the
//! device as it was, and that rollback writes back the state the journal recorded.

use std::collections::BTreeMap;

use crate::model::dcb::{DcbState, APP_SEL_DSCP};
use crate::model::{Avail, Knob, NodeState, Value};
use crate::sys::dcb_write::fake::{Fail, FakeDcb};
use crate::sys::write::WriteError;

use super::apply::Applier;
use super::{plan, Plan, Session, TxState};

/// eth2 of the fixture node: DCB through the fake dcbnl, pause rx/tx in memory.
struct Node {
    dcb: FakeDcb,
    pause: BTreeMap<String, bool>,
    /// A pause write of this (field, value) fails once.
    pause_fail: Option<(String, bool)>,
}

impl Node {
    fn new() -> Self {
        let mut dev = crate::sys::dcb_write::tests::device();
        // The trust order this driver reports (an mlx5 reports none: see the profile tests).
        dev.trust = Some(vec![crate::model::dcb::APP_SEL_PCP]);
        Self {
            dcb: FakeDcb::new("eth2", dev),
            pause: [("rx".to_string(), true), ("tx".to_string(), true)].into(),
            pause_fail: None,
        }
    }

    /// The node as `collect` would read it now.
    fn state(&mut self) -> NodeState {
        let mut st: NodeState =
            serde_json::from_str(include_str!("../../tests/fixtures/profiles/node-dcb.json"))
                .expect("fixture");
        let dcb = crate::sys::dcb_write::read(&mut self.dcb, "eth2").expect("dcbnl read");
        let i = st
            .interfaces
            .iter_mut()
            .find(|i| i.name == "eth2")
            .expect("eth2");
        i.dcb = Some(Avail::Ok(dcb));
        if let Avail::Ok(p) = &mut i.pause {
            p.rx = self.pause["rx"];
            p.tx = self.pause["tx"];
        }
        st
    }

    /// What the device holds: the DCB state (the APP table as a set) and pause.
    fn snapshot(&self) -> (DcbState, BTreeMap<String, bool>) {
        let mut d = self.dcb.state.clone();
        d.apps.sort();
        (d, self.pause.clone())
    }
}

impl Applier for Node {
    fn apply(&mut self, knob: &Knob, value: &Value) -> Result<(), WriteError> {
        if let (Knob::Pause { field, .. }, Value::Bool(b)) = (knob, value) {
            if self.pause_fail.as_ref() == Some(&(field.clone(), *b)) {
                self.pause_fail = None;
                return Err(WriteError::failed(knob, value, "injected failure"));
            }
            self.pause.insert(field.clone(), *b);
            return Ok(());
        }
        crate::sys::dcb_write::write(&mut self.dcb, knob, value)
    }

    fn read(&mut self, knobs: &[Knob]) -> Vec<Result<Value, String>> {
        let st = self.state();
        knobs.iter().map(|k| super::current_value(&st, k)).collect()
    }
}

/// The plan of `roce-lossless` for eth2 on the node as it is now.
fn roce_plan(node: &mut Node) -> (Vec<crate::model::Setting>, Plan) {
    let profile = crate::profile::Profile::from_yaml(
        "roce-lossless",
        include_str!("../../profiles/roce-lossless.yaml"),
    )
    .expect("shipped profile");
    let r =
        crate::profile::resolve(&profile, &node.state(), &["eth2".to_string()]).expect("resolves");
    let p = plan(&r.settings, &node.state());
    (r.settings, p)
}

#[test]
fn roce_lossless_applies_checks_drifts_and_rolls_back_to_the_recorded_state() {
    let mut node = Node::new();
    let before = node.snapshot();
    let (desired, p) = roce_plan(&mut node);
    let order: Vec<String> = p.steps.iter().map(|s| s.knob.to_string()).collect();
    assert_eq!(
        order,
        [
            "eth2 pause rx",
            "eth2 pause tx",
            "eth2 dcb pfc",
            "eth2 dcb ets",
            "eth2 dcb app dscp-prio 26",
            "eth2 dcb app dscp-prio 48",
            "eth2 dcb apptrust",
        ]
    );
    // The journal keeps the device's whole ieee_ets and DSCP 26's old priority.
    let ets_old = &p.steps[3].old;
    assert!(
        matches!(ets_old, Value::Text(t) if t.starts_with("willing 0 ets-cap 8 cbs 0 tc-bw 12 13")),
        "{ets_old:?}"
    );
    assert_eq!(p.steps[4].old, Value::Text("2".into()));
    assert_eq!(p.steps[5].old, Value::Text("none".into()));

    let tmp = tempfile::tempdir().expect("tempdir");
    let s = Session::begin(tmp.path()).expect("lock");
    let tx = s
        .run_transaction(&mut node, "roce-lossless", &p, None)
        .expect("apply");
    assert_eq!(tx.state, TxState::Applied);
    let d = node.dcb.state.clone();
    assert_eq!(d.pfc.as_ref().map(|p| p.pfc_en), Some(0x08));
    assert_eq!(
        d.ets.as_ref().map(|e| e.prio_tc.clone()),
        Some(vec![0, 0, 0, 1, 0, 0, 2, 0])
    );
    assert_eq!(
        crate::model::dcb::pfc_text(d.app_priorities(APP_SEL_DSCP, 26)),
        "3"
    );
    assert_eq!(
        crate::model::dcb::pfc_text(d.app_priorities(APP_SEL_DSCP, 48)),
        "6"
    );
    assert_eq!(d.trust, Some(vec![APP_SEL_DSCP]));
    assert!(!node.pause["rx"]);
    assert!(super::check(&desired, &node.state()).compliant);
    // The log: pause first, then PFC (never both on), ETS, APP (26 replaced: add, delete).
    assert_eq!(
        node.dcb.log,
        ["pfc", "ets", "app+", "app-", "app+", "trust"]
    );

    // Drift: someone turns PFC off again.
    if let Some(p) = node.dcb.state.pfc.as_mut() {
        p.pfc_en = 0;
    }
    let report = super::check(&desired, &node.state());
    assert!(!report.compliant);
    assert_eq!(report.drift.len(), 1);
    assert_eq!(report.drift[0].knob.to_string(), "eth2 dcb pfc");
    if let Some(p) = node.dcb.state.pfc.as_mut() {
        p.pfc_en = 0x08;
    }

    let (rolled, n) = s.rollback(&mut node, None).expect("rollback");
    assert_eq!((rolled.state, n), (TxState::RolledBack, 7));
    assert_eq!(
        node.snapshot(),
        before,
        "rollback did not restore the device exactly"
    );
}

#[test]
fn a_failure_at_each_dcb_step_and_at_pause_leaves_the_device_as_it_was() {
    type Inject = fn(&mut Node);
    let cases: [(&str, Inject); 6] = [
        ("pause", |n| n.pause_fail = Some(("tx".into(), false))),
        ("pfc", |n| n.dcb.fail = vec![Fail::Pfc]),
        ("ets", |n| n.dcb.fail = vec![Fail::Ets]),
        ("app add", |n| n.dcb.fail = vec![Fail::AppAdd]),
        ("app del", |n| n.dcb.fail = vec![Fail::AppDel]),
        ("trust", |n| n.dcb.fail = vec![Fail::Trust]),
    ];
    for (what, inject) in cases {
        let mut node = Node::new();
        let before = node.snapshot();
        let (_, p) = roce_plan(&mut node);
        inject(&mut node);
        let tmp = tempfile::tempdir().expect("tempdir");
        let s = Session::begin(tmp.path()).expect("lock");
        let e = s
            .run_transaction(&mut node, "roce-lossless", &p, None)
            .expect_err("injected");
        let msg = format!("{e:#}");
        assert!(
            msg.contains("injected failure") || msg.contains("refused by the driver"),
            "{what}: {msg}"
        );
        assert!(
            msg.ends_with("the node is back where it was"),
            "{what}: {msg}"
        );
        assert_eq!(node.snapshot(), before, "{what}: the device changed");
        let txs = s.store().list().expect("list");
        assert_eq!(txs[0].state, TxState::Failed, "{what}");
        assert_eq!(txs[0].applied, 0, "{what}");
    }
}
