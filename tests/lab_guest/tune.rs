//! `dpuctl tune`, `check` and `rollback` on the real drivers of the lab guest: every knob kind
//! written and witnessed by ethtool and procfs, NUMA placement of IRQs, shipped profiles.

use std::path::Path;

use crate::{dpuctl, get, in_lab, kv, max_and_current, ok, tool};

fn current(flag: &str, iface: &str, label: &str) -> String {
    let (_, cur) = max_and_current(&tool("ethtool", &[flag, iface]));
    get(&cur, label).to_string()
}

fn coalesce_rx_usecs(iface: &str) -> String {
    get(&kv(&tool("ethtool", &["-c", iface])), "rx-usecs").to_string()
}

fn pause_rx(iface: &str) -> String {
    get(&kv(&tool("ethtool", &["-a", iface])), "RX").to_string()
}

fn gro(iface: &str) -> String {
    let k = kv(&tool("ethtool", &["-k", iface]));
    get(&k, "generic-receive-offload")
        .split_whitespace()
        .next()
        .unwrap_or("")
        .to_string()
}

fn sysctl(name: &str) -> String {
    std::fs::read_to_string(format!("/proc/sys/{}", name.replace('.', "/")))
        .expect("sysctl")
        .trim()
        .to_string()
}

/// The queue IRQs of a NIC and their affinity, from dpuctl's own view of which IRQ is whose
/// and /proc as the witness of the affinity.
fn queue_irq_affinity(iface: &str) -> Vec<(u64, String)> {
    let i = crate::show(iface);
    i["irqs"]
        .as_array()
        .expect("irqs")
        .iter()
        .filter(|x| !x["queue"].is_null())
        .map(|x| {
            let n = x["irq"].as_u64().expect("irq");
            let aff = tool("cat", &[&format!("/proc/irq/{n}/smp_affinity_list")]);
            (n, aff.trim().to_string())
        })
        .collect()
}

/// Everything the tests below change, read with the witness tools.
fn witnessed() -> Vec<String> {
    let mut v = vec![
        current("-g", "nsim0", "RX"),
        current("-g", "virtio0", "RX"),
        current("-l", "virtio0", "Combined"),
        coalesce_rx_usecs("nsim0"),
        pause_rx("nsim0"),
        gro("nsim0"),
        gro("virtio0"),
        sysctl("net.core.netdev_max_backlog"),
        sysctl("net.core.busy_poll"),
    ];
    for iface in ["virtio0", "igb0"] {
        v.extend(
            queue_irq_affinity(iface)
                .into_iter()
                .map(|(n, a)| format!("{n}:{a}")),
        );
    }
    v
}

#[test]
fn tune_writes_every_knob_kind_check_sees_drift_and_rollback_restores() {
    in_lab();
    let state = tempfile::tempdir().expect("tempdir");
    let before = witnessed();
    let nsim_rx: u32 = current("-g", "nsim0", "RX").parse().expect("rx");
    let rx = if nsim_rx == 512 { 256 } else { 512 };
    let usecs = if coalesce_rx_usecs("nsim0") == "40" {
        60
    } else {
        40
    };
    let pause = pause_rx("nsim0") != "on";
    let profile = format!(
        "name: labtune\n\
         description: every knob kind on real drivers\n\
         sysctl:\n  net.core.netdev_max_backlog: 4242\n  net.core.busy_poll: 50\n\
         interfaces:\n\
         \x20 - match: {{name: nsim0}}\n\
         \x20   rings: {{rx: {rx}}}\n\
         \x20   coalesce: {{rx_usecs: {usecs}}}\n\
         \x20   pause: {{autoneg: false, rx: {pause}}}\n\
         \x20   features: {{gro: {gro}}}\n\
         \x20 - match: {{name: virtio0}}\n\
         \x20   rings: {{rx: 512}}\n\
         \x20   channels: {{combined: 2}}\n\
         \x20   features: {{gro: {vgro}}}\n\
         \x20   irq_affinity: {{cpus: nic-numa, spread: true}}\n",
        gro = if gro("nsim0") == "on" { "off" } else { "on" },
        vgro = if gro("virtio0") == "on" { "off" } else { "on" },
    );
    let file = state.path().join("labtune.yaml");
    std::fs::write(&file, profile).expect("write profile");
    let p = file.to_str().expect("path");

    let plan = ok(&dpuctl(state.path(), &["tune", p, "--dry-run"]), "dry run");
    assert!(plan.contains("nsim0 rings rx"), "{plan}");
    assert!(plan.contains("resets link"), "{plan}");
    assert_eq!(witnessed(), before, "--dry-run changed the node");

    let o = dpuctl(state.path(), &["tune", p, "--yes"]);
    ok(&o, "tune");
    // The channel change re-allocates virtio's vectors: IRQs are placed by a second run.
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("left for the next run"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    ok(&dpuctl(state.path(), &["tune", p, "--yes"]), "second tune");
    assert_eq!(current("-g", "nsim0", "RX"), rx.to_string());
    assert_eq!(current("-g", "virtio0", "RX"), "512");
    assert_eq!(current("-l", "virtio0", "Combined"), "2");
    assert_eq!(coalesce_rx_usecs("nsim0"), usecs.to_string());
    assert_eq!(pause_rx("nsim0"), if pause { "on" } else { "off" });
    assert_ne!(gro("nsim0"), before[5]);
    assert_ne!(gro("virtio0"), before[6]);
    assert_eq!(sysctl("net.core.netdev_max_backlog"), "4242");
    assert_eq!(sysctl("net.core.busy_poll"), "50");
    // nic-numa: virtio0 sits on NUMA node 1 (CPUs 2-3); spread puts one IRQ per CPU.
    let irqs = queue_irq_affinity("virtio0");
    assert!(irqs.len() >= 2, "{irqs:?}");
    for (n, aff) in &irqs {
        assert!(
            aff == "2" || aff == "3",
            "virtio0 irq {n} on {aff}, not node 1"
        );
    }
    assert!(irqs.iter().any(|(_, a)| a == "2") && irqs.iter().any(|(_, a)| a == "3"));

    let o = dpuctl(state.path(), &["check", p]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
    // Drift made by hand with ethtool: check names it, exit 1.
    tool("ethtool", &["-G", "nsim0", "rx", "128"]);
    let o = dpuctl(state.path(), &["check", p]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stdout).contains("nsim0 rings rx"));

    // Newest first: the IRQ placement, then the rest.
    ok(&dpuctl(state.path(), &["rollback"]), "rollback");
    ok(&dpuctl(state.path(), &["rollback"]), "rollback");
    assert_eq!(witnessed(), before, "rollback did not restore the node");
    let h = ok(&dpuctl(state.path(), &["history"]), "history");
    assert!(h.contains("rolled-back"), "{h}");
}

#[test]
fn nic_numa_profile_places_multiqueue_irqs_on_node_1() {
    in_lab();
    let state = tempfile::tempdir().expect("tempdir");
    let before = witnessed();
    let file = state.path().join("place.yaml");
    std::fs::write(
        &file,
        "name: place\ndescription: IRQs near the NIC\ninterfaces:\n  - match: {pci: true}\n    irq_affinity: {cpus: nic-numa}\n",
    )
    .expect("write");
    let p = file.to_str().expect("path");
    ok(&dpuctl(state.path(), &["tune", p, "--yes"]), "tune");
    for iface in ["virtio0", "igb0"] {
        let irqs = queue_irq_affinity(iface);
        assert!(irqs.len() >= 4, "{iface}: {irqs:?}");
        for (n, aff) in irqs {
            assert!(
                aff == "2" || aff == "3",
                "{iface} irq {n} on {aff}, not node 1"
            );
        }
    }
    // Spread is by queue: igb's rx-N and tx-N vectors share a CPU, and the rx vectors
    // cover both CPUs of the node rather than piling onto one.
    let igb = crate::show("igb0");
    let mut by_queue: std::collections::BTreeMap<u64, Vec<String>> =
        std::collections::BTreeMap::new();
    for x in igb["irqs"].as_array().expect("irqs") {
        if let Some(q) = x["queue"].as_u64() {
            let n = x["irq"].as_u64().expect("irq");
            let aff = tool("cat", &[&format!("/proc/irq/{n}/smp_affinity_list")]);
            by_queue.entry(q).or_default().push(aff.trim().to_string());
        }
    }
    assert_eq!(by_queue.len(), 4, "{by_queue:?}");
    for (q, cpus) in &by_queue {
        assert_eq!(cpus.len(), 2, "igb0 queue {q}: rx and tx vectors {cpus:?}");
        assert_eq!(cpus[0], cpus[1], "igb0 queue {q} split over CPUs {cpus:?}");
    }
    let used: std::collections::BTreeSet<&String> = by_queue.values().map(|c| &c[0]).collect();
    assert_eq!(
        used.len(),
        2,
        "igb0 queues on {used:?}, want both CPUs of node 1"
    );
    let o = dpuctl(state.path(), &["check", p, "--quiet"]);
    assert_eq!(o.status.code(), Some(0));
    assert!(o.stdout.is_empty(), "--quiet prints nothing");
    ok(&dpuctl(state.path(), &["rollback"]), "rollback");
    assert_eq!(witnessed(), before);
}

#[test]
fn shipped_profiles_plan_apply_and_roll_back_on_real_drivers() {
    in_lab();
    for profile in [
        "latency",
        "throughput",
        "gpu-inference",
        "gpu-training",
        "balanced",
    ] {
        let state = tempfile::tempdir().expect("tempdir");
        let plan = dpuctl(state.path(), &["tune", profile, "--dry-run"]);
        // The lab has no GPU: the GPU profiles must say so plainly, exit 2, nothing changed.
        if profile.starts_with("gpu-") {
            let err = String::from_utf8_lossy(&plan.stderr);
            assert_eq!(plan.status.code(), Some(2), "{profile}: {err}");
            assert!(err.to_lowercase().contains("gpu"), "{profile}: {err}");
            continue;
        }
        ok(&plan, &format!("{profile} --dry-run"));
        let before = witnessed();
        // virtio-net takes adaptive rx coalescing and silently ignores it (no feature behind
        // it): the read-back after the last step fails the transaction, which is reverted
        // whole; --best-effort then keeps what takes and lists the rest (exit 1).
        let first = dpuctl(state.path(), &["tune", profile, "--yes"]);
        let best_effort = match first.status.code() {
            Some(0) => false,
            Some(2) => {
                let err = String::from_utf8_lossy(&first.stderr);
                assert!(
                    err.contains("virtio0 coalesce use_adaptive_rx (set to on) reads off instead")
                        && err.contains("back where it was"),
                    "{profile}: {err}"
                );
                assert_eq!(witnessed(), before, "{profile}: a failed tune left changes");
                true
            }
            c => panic!(
                "{profile}: tune exit {c:?}\n{}",
                String::from_utf8_lossy(&first.stderr)
            ),
        };
        let tune = |state: &Path| {
            let mut args = vec!["tune", profile, "--yes"];
            if best_effort {
                args.push("--best-effort");
            }
            let o = dpuctl(state, &args);
            let err = String::from_utf8_lossy(&o.stderr);
            let fine = o.status.code() == Some(0)
                || (best_effort
                    && o.status.code() == Some(1)
                    && err.contains("virtio0 coalesce use_adaptive_rx"));
            assert!(fine, "{profile}: tune exit {:?}\n{err}", o.status.code());
        };
        if best_effort {
            tune(state.path());
        }
        // A profile that changes the queue count places IRQs on the second run, once the
        // driver has re-allocated its vectors; a third run has nothing left to do.
        let mut runs = 1;
        let drift: Vec<String> = loop {
            let o = dpuctl(state.path(), &["check", profile]);
            let out = String::from_utf8_lossy(&o.stdout).into_owned();
            match o.status.code() {
                Some(0) => break Vec::new(),
                Some(1) if runs == 2 => {
                    let rows: Vec<String> = out
                        .lines()
                        .filter(|l| l.starts_with(' ') && !l.contains("WANT"))
                        .map(str::to_string)
                        .collect();
                    // Exit 1 means drift: the rows must be there to be judged below.
                    assert!(
                        !rows.is_empty(),
                        "{profile}: exit 1 but no drift rows in\n{out}"
                    );
                    break rows;
                }
                Some(1) => {}
                c => panic!("{profile} check: exit {c:?}\n{out}"),
            }
            tune(state.path());
            runs += 1;
        };
        // What may remain is what a driver accepts and silently ignores, which check exists
        // to catch: virtio-net takes adaptive rx coalescing without the feature behind it.
        for line in &drift {
            assert!(
                line.contains("virtio0 coalesce use_adaptive_rx"),
                "{profile}: unexpected drift after {runs} runs: {line:?}\n{drift:?}"
            );
        }
        for _ in 0..runs {
            ok(&dpuctl(state.path(), &["rollback"]), "rollback");
        }
        assert_eq!(witnessed(), before, "{profile}: rollback");
    }
}

/// A profile that resets igb0's link (`reset`: a ring or MTU change, whose current value
/// `witness` reads) and forces its pause settings: igb sets the flow control mode from the
/// autonegotiation result when the link comes back, pause autonegotiation off or not. tune
/// must leave the forced mode in force once the link is up (the plan writes link resets
/// first), check must find it, and rollback must restore both.
fn forced_pause_holds_after_a_link_reset(
    name: &str,
    reset: &str,
    witness: impl Fn() -> String,
    wanted: &str,
) {
    in_lab();
    crate::wait_carrier("igb0");
    let state = tempfile::tempdir().expect("tempdir");
    let old = witness();
    let old_pause = kv(&tool("ethtool", &["-a", "igb0"]));
    // Anything but rx+tx: what igb's link-up resolves a forced mode to here is rx only.
    // The pause block comes first: the profile's order must not matter.
    let profile = format!(
        "name: {name}\n\
         description: a link reset and forced pause on igb\n\
         interfaces:\n\
         \x20 - match: {{name: igb0}}\n\
         \x20   pause: {{autoneg: false, rx: false, tx: false}}\n\
         \x20   {reset}\n"
    );
    let file = state.path().join(format!("{name}.yaml"));
    std::fs::write(&file, profile).expect("write profile");
    let p = file.to_str().expect("path");

    ok(&dpuctl(state.path(), &["tune", p, "--yes"]), "tune");
    crate::wait_carrier("igb0");
    let a = kv(&tool("ethtool", &["-a", "igb0"]));
    assert_eq!(
        (get(&a, "Autonegotiate"), get(&a, "RX"), get(&a, "TX")),
        ("off", "off", "off"),
        "igb0 pause once the link is up after {reset}: {a:?}"
    );
    assert_eq!(witness(), wanted);
    let o = dpuctl(state.path(), &["check", p]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "check: {}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );

    ok(&dpuctl(state.path(), &["rollback"]), "rollback");
    crate::wait_carrier("igb0");
    assert_eq!(witness(), old);
    assert_eq!(
        get(&kv(&tool("ethtool", &["-a", "igb0"])), "Autonegotiate"),
        get(&old_pause, "Autonegotiate"),
        "igb0 pause autonegotiation restored"
    );
}

#[test]
fn rings_and_forced_pause_on_igb_hold_after_the_link_reset() {
    in_lab();
    let old_ring = current("-g", "igb0", "RX");
    let ring = if old_ring == "512" { 256 } else { 512 };
    forced_pause_holds_after_a_link_reset(
        "labpause",
        &format!("rings: {{rx: {ring}}}"),
        || current("-g", "igb0", "RX"),
        &ring.to_string(),
    );
}

#[test]
fn mtu_and_forced_pause_on_igb_hold_after_the_link_reset() {
    in_lab();
    let mtu = || {
        std::fs::read_to_string("/sys/class/net/igb0/mtu")
            .expect("igb0 mtu")
            .trim()
            .to_string()
    };
    let want = if mtu() == "9000" { "4000" } else { "9000" };
    forced_pause_holds_after_a_link_reset("labpausemtu", &format!("mtu: {want}"), mtu, want);
}
