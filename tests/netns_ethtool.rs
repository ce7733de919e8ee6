//! The ethtool layer against the real kernel, with the `ethtool` tool as the independent
//! witness.
//!
//! Each `veth_*` test creates its own network namespace holding a veth pair `a`/`b` with four
//! queues each, runs its checks inside it and deletes the namespace, whatever the outcome.
//! Settings are only ever written inside that namespace. The checks run in a child process
//! (`ip netns exec NS <this test binary> --exact <the same test>`, marked by an environment
//! variable), so every socket dpuctl opens belongs to the namespace and the host is untouched.
//!
//! Needs root (to create namespaces), `ip` (iproute2) and `ethtool`; without them the tests
//! fail with a message saying so.

mod common;

use std::collections::BTreeMap;
use std::process::Command;

use common::Netns;

use dpuctl::model::{Channels, Coalesce, Rings};
use dpuctl::sys::ethtool::{Ethtool, EthtoolError};

/// Set in the child to the namespace its parent made for it.
const NS_ENV: &str = "DPUCTL_TEST_NETNS";

// ---------------------------------------------------------------------------------------
// Outer side: runs on the host, owns the namespace.

/// Fails the test unless it runs as root with `ip` and `ethtool` on PATH.
fn require_tools() {
    common::require_root();
    for (tool, hint) in [("ip", "iproute2"), ("ethtool", "ethtool")] {
        let found = Command::new(tool).arg("-V").output().is_ok();
        assert!(
            found,
            "the netns_ethtool tests need `{tool}` on PATH (Debian package {hint})"
        );
    }
}

/// Runs the test `test` of this binary again inside the namespace (where it runs its body)
/// and fails with its output if it fails.
fn run_inside(ns: &Netns, test: &str) {
    let exe = std::env::current_exe().expect("current test binary");
    let out = Command::new("ip")
        .args(["netns", "exec", &ns.name])
        .arg(exe)
        .args(["--exact", test, "--nocapture", "--test-threads=1"])
        .env(NS_ENV, &ns.name)
        .output()
        .expect("run ip netns exec");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "{test} failed inside netns {}:\n{stdout}\n{stderr}",
        ns.name
    );
    assert!(
        stdout.contains("1 passed"),
        "{test} did not run inside netns {}:\n{stdout}",
        ns.name
    );
    print!("{stdout}");
}

/// Runs `body` inside a fresh namespace holding a veth pair `a`/`b` with four queues each,
/// left down (some checks watch the link come up): the outer run creates the namespace and
/// runs the test `test` again inside it, where the environment marks it as the inner run.
fn in_fresh_netns(tag: &str, test: &str, body: fn()) {
    if std::env::var_os(NS_ENV).is_some() {
        body();
        return;
    }
    require_tools();
    let ns = Netns::new(tag);
    // `name a`, not bare `a`: ip would take a lone `a` for the `address` keyword.
    ns.ip(&[
        "link",
        "add",
        "name",
        "a",
        "numtxqueues",
        "4",
        "numrxqueues",
        "4",
        "type",
        "veth",
        "peer",
        "name",
        "b",
        "numtxqueues",
        "4",
        "numrxqueues",
        "4",
    ]);
    run_inside(&ns, test);
}

#[test]
fn veth_has_no_rings_pause_coalesce_fec_or_standard_stats() {
    in_fresh_netns(
        "unsup",
        "veth_has_no_rings_pause_coalesce_fec_or_standard_stats",
        inner_unsupported,
    );
}

#[test]
fn veth_channels_agree_with_ethtool() {
    in_fresh_netns("chan", "veth_channels_agree_with_ethtool", inner_channels);
}

#[test]
fn veth_features_agree_with_ethtool() {
    in_fresh_netns("feat", "veth_features_agree_with_ethtool", inner_features);
}

#[test]
fn veth_driver_info_and_stats_agree_with_ethtool() {
    in_fresh_netns(
        "drv",
        "veth_driver_info_and_stats_agree_with_ethtool",
        inner_driver,
    );
}

#[test]
fn veth_link_info_agrees_with_ethtool() {
    in_fresh_netns("link", "veth_link_info_agrees_with_ethtool", inner_link);
}

#[test]
fn missing_interface_reads_as_no_device() {
    in_fresh_netns(
        "nodev",
        "missing_interface_reads_as_no_device",
        inner_missing,
    );
}

// ---------------------------------------------------------------------------------------
// Inner side: runs inside the namespace, started by `Netns::run_inner`.

/// Fails unless this process was started inside a namespace by its outer test.
fn inside() {
    let ns = std::env::var(NS_ENV).unwrap_or_default();
    assert!(
        !ns.is_empty(),
        "this check only runs inside the network namespace its outer test creates; \
         run `cargo test --test netns_ethtool` instead"
    );
}

/// Runs `ethtool args` and returns its stdout, failing the test if it fails.
fn ethtool(args: &[&str]) -> String {
    let out = Command::new("ethtool")
        .args(args)
        .output()
        .expect("run ethtool");
    assert!(
        out.status.success(),
        "ethtool {} failed: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Runs `ethtool args`, expecting it to fail; returns its stderr.
fn ethtool_fails(args: &[&str]) -> String {
    let out = Command::new("ethtool")
        .args(args)
        .output()
        .expect("run ethtool");
    assert!(
        !out.status.success(),
        "ethtool {} unexpectedly succeeded",
        args.join(" ")
    );
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// `key: value` lines of ethtool output, keys trimmed.
fn fields(text: &str) -> BTreeMap<String, String> {
    text.lines()
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect()
}

fn open() -> Ethtool {
    Ethtool::open().expect("open ethtool netlink")
}

fn inner_unsupported() {
    inside();
    let mut et = open();
    let check = |r: Result<(), EthtoolError>, what: &str| {
        let e = r.expect_err(what);
        assert!(e.is_unsupported(), "{what}: {e:?}");
        assert_eq!(
            e.to_string(),
            format!("failed to {what} on a: not supported by the driver")
        );
        assert_eq!(e.reason(), "not supported by the driver");
    };
    check(et.rings("a").map(drop), "read ring sizes");
    check(et.pause("a").map(drop), "read pause settings");
    check(et.coalesce("a").map(drop), "read interrupt coalescing");
    check(et.fec("a").map(drop), "read FEC settings");
    check(
        et.set_rings(
            "a",
            &Rings {
                rx: Some(256),
                ..Rings::default()
            },
        ),
        "set ring sizes",
    );
    check(
        et.set_coalesce(
            "a",
            &Coalesce {
                rx_usecs: Some(10),
                ..Coalesce::default()
            },
        ),
        "set interrupt coalescing",
    );
    check(
        et.set_pause("a", None, Some(true), None),
        "set pause settings",
    );
    // The witness agrees: the kernel answers EOPNOTSUPP to ethtool as well.
    for flag in ["-g", "-a", "-c", "--show-fec"] {
        let err = ethtool_fails(&[flag, "a"]);
        assert!(
            err.contains("Operation not supported"),
            "ethtool {flag}: {err}"
        );
    }
    // veth has no standard statistics: an empty list, not an error; ethtool prints no counter.
    let std = et.std_stats("a").expect("std stats");
    assert!(std.groups.is_empty(), "{std:?}");
    let out = ethtool(&["-S", "a", "--all-groups"]);
    assert!(
        out.lines().skip(1).all(|l| l.trim().is_empty()),
        "ethtool reports standard stats: {out}"
    );
    println!("rings, pause, coalesce, fec: unsupported as ethtool says; std stats empty");
}

/// `ethtool -l` as (maximums, current), `n/a` as `None`.
type ChannelMap = BTreeMap<String, Option<u32>>;

fn ethtool_channels() -> (ChannelMap, ChannelMap) {
    let out = ethtool(&["-l", "a"]);
    let mut max = BTreeMap::new();
    let mut cur = BTreeMap::new();
    let mut into_cur = false;
    for line in out.lines() {
        if line.starts_with("Current hardware settings") {
            into_cur = true;
        }
        let Some((k, v)) = line.split_once(':') else {
            continue;
        };
        let v = v.trim();
        if v.is_empty() {
            continue;
        }
        let target = if into_cur { &mut cur } else { &mut max };
        target.insert(k.trim().to_string(), v.parse().ok());
    }
    (max, cur)
}

fn assert_channels_match(c: &Channels) {
    let (max, cur) = ethtool_channels();
    let pairs = [
        ("RX", c.rx_max, c.rx),
        ("TX", c.tx_max, c.tx),
        ("Other", c.other_max, c.other),
        ("Combined", c.combined_max, c.combined),
    ];
    for (k, m, v) in pairs {
        assert_eq!(
            max.get(k).copied().flatten(),
            m,
            "max {k}: {c:?} vs {max:?}"
        );
        assert_eq!(
            cur.get(k).copied().flatten(),
            v,
            "current {k}: {c:?} vs {cur:?}"
        );
    }
}

fn inner_channels() {
    inside();
    let mut et = open();
    let c = et.channels("a").expect("channels");
    assert_eq!((c.rx_max, c.tx_max), (Some(4), Some(4)), "{c:?}");
    assert_channels_match(&c);

    et.set_channels(
        "a",
        &Channels {
            rx: Some(2),
            tx: Some(3),
            ..Channels::default()
        },
    )
    .expect("set channels");
    let (_, cur) = ethtool_channels();
    assert_eq!(cur["RX"], Some(2));
    assert_eq!(cur["TX"], Some(3));
    let c = et.channels("a").expect("channels after set");
    assert_eq!((c.rx, c.tx), (Some(2), Some(3)));
    assert_channels_match(&c);

    // Beyond the maximum: the kernel refuses and says why.
    let e = et
        .set_channels(
            "a",
            &Channels {
                rx: Some(9),
                ..Channels::default()
            },
        )
        .expect_err("rx 9 > max 4");
    let msg = e.to_string();
    assert!(msg.starts_with("failed to set channels on a: "), "{msg}");
    assert!(!e.is_unsupported(), "{e:?}");
    println!("channels ok; over-maximum error reads: {msg}");
}

/// `(active, requested, fixed)` as `ethtool --json -k` shows them; a legacy group name has
/// only `active` (the others are null).
type Flags = (Option<bool>, Option<bool>, Option<bool>);

/// `ethtool --json -k a` as name -> flags.
fn ethtool_features() -> BTreeMap<String, Flags> {
    let out = ethtool(&["--json", "-k", "a"]);
    let v: serde_json::Value = serde_json::from_str(&out).expect("ethtool --json -k");
    let obj = v[0].as_object().expect("one interface object");
    obj.iter()
        .filter(|(_, f)| f.is_object())
        .map(|(k, f)| {
            let flag = |n: &str| f.get(n).and_then(serde_json::Value::as_bool);
            (
                k.clone(),
                (flag("active"), flag("requested"), flag("fixed")),
            )
        })
        .collect()
}

/// `ethtool -k a` line for `name` ("on", "off", maybe with "[fixed]").
fn ethtool_k_line(name: &str) -> String {
    let out = ethtool(&["-k", "a"]);
    fields(&out)
        .get(name)
        .cloned()
        .unwrap_or_else(|| panic!("no {name} in ethtool -k: {out}"))
}

fn inner_features() {
    inside();
    let mut et = open();
    let ours = et.features("a").expect("features");
    let theirs = ethtool_features();
    let state = |name: &str| {
        ours.iter()
            .find(|f| f.name == name)
            .unwrap_or_else(|| panic!("no feature {name} in {ours:?}"))
            .clone()
    };
    // Every kernel name ethtool shows on its own line must agree in all three states.
    let mut compared = 0;
    for f in &ours {
        if let Some(&flags) = theirs.get(&f.name) {
            assert_eq!(
                (Some(f.active), Some(f.wanted), Some(f.fixed)),
                flags,
                "{}: ours (active, wanted, fixed) vs ethtool",
                f.name
            );
            compared += 1;
        }
    }
    assert!(compared >= 20, "only {compared} features compared");
    for name in ["rx-gro-hw", "rx-udp-gro-forwarding", "tx-tcp-segmentation"] {
        assert!(theirs.contains_key(name), "ethtool -k lacks {name}");
    }
    // Legacy names ethtool prints for single kernel features.
    for (legacy, kernel) in [
        ("generic-receive-offload", "rx-gro"),
        ("large-receive-offload", "rx-lro"),
        ("generic-segmentation-offload", "tx-generic-segmentation"),
    ] {
        let f = state(kernel);
        assert_eq!(
            theirs[legacy],
            (Some(f.active), Some(f.wanted), Some(f.fixed)),
            "{legacy} vs {kernel}"
        );
    }
    // ethtool shows the TSO group on when its changeable members are.
    let tso_on = theirs["tcp-segmentation-offload"].0;
    assert_eq!(tso_on, Some(state("tx-tcp-segmentation").active));

    // Turn GRO on and off again by kernel name, then by legacy name.
    et.set_features("a", &[("rx-gro", true)])
        .expect("rx-gro on");
    assert_eq!(ethtool_k_line("generic-receive-offload"), "on");
    assert!(state_of(&mut et, "rx-gro").active);
    et.set_features("a", &[("rx-gro", false)])
        .expect("rx-gro off");
    assert_eq!(ethtool_k_line("generic-receive-offload"), "off");
    et.set_features("a", &[("gro", true)]).expect("gro on");
    assert_eq!(ethtool_k_line("generic-receive-offload"), "on");
    et.set_features("a", &[("generic-receive-offload", false)])
        .expect("generic-receive-offload off");
    assert_eq!(ethtool_k_line("generic-receive-offload"), "off");

    // A group by legacy name: all changeable TSO members follow.
    et.set_features("a", &[("tso", false)]).expect("tso off");
    assert_eq!(ethtool_k_line("tcp-segmentation-offload"), "off");
    assert_eq!(ethtool_k_line("tx-tcp-segmentation"), "off");
    et.set_features("a", &[("tso", true)]).expect("tso on");
    assert_eq!(ethtool_k_line("tcp-segmentation-offload"), "on");

    // A fixed feature cannot change: the error names it and says why.
    assert!(state("rx-gro-hw").fixed);
    let e = et
        .set_features("a", &[("rx-gro-hw", true)])
        .expect_err("rx-gro-hw is fixed on veth");
    let msg = e.to_string();
    assert_eq!(
        msg,
        "failed to set features on a: rx-gro-hw stayed off instead of on \
         (the feature is fixed on this device)"
    );
    assert_eq!(ethtool_k_line("rx-gro-hw"), "off [fixed]");

    let e = et
        .set_features("a", &[("warp-drive", true)])
        .expect_err("unknown feature");
    assert_eq!(
        e.to_string(),
        "failed to set features on a: unknown feature \"warp-drive\""
    );
    println!("{compared} features agree with ethtool; fixed-feature error reads: {msg}");
}

fn state_of(et: &mut Ethtool, name: &str) -> dpuctl::model::Feature {
    et.features("a")
        .expect("features")
        .into_iter()
        .find(|f| f.name == name)
        .unwrap_or_else(|| panic!("no feature {name}"))
}

/// `ethtool -S a` as (name, value) in order.
fn ethtool_stats() -> Vec<(String, u64)> {
    let out = ethtool(&["-S", "a"]);
    out.lines()
        .skip_while(|l| !l.starts_with("NIC statistics"))
        .skip(1)
        .filter_map(|l| {
            let (k, v) = l.split_once(':')?;
            Some((k.trim().to_string(), v.trim().parse().ok()?))
        })
        .collect()
}

fn assert_stats_match(et: &Ethtool) -> usize {
    let ours = et.driver_stats("a").expect("driver stats");
    let theirs = ethtool_stats();
    let names: Vec<&str> = ours.iter().map(|c| c.name.as_str()).collect();
    let their_names: Vec<&str> = theirs.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, their_names);
    // Both links are down and nothing sends, so no value can change between the two reads.
    for (c, (n, v)) in ours.iter().zip(&theirs) {
        assert_eq!(c.value, *v, "{n}");
    }
    ours.len()
}

fn inner_driver() {
    inside();
    let mut et = open();
    let info = et.driver_info("a").expect("driver info");
    let i = fields(&ethtool(&["-i", "a"]));
    assert_eq!(info.driver, "veth");
    assert_eq!(info.driver, i["driver"]);
    assert_eq!(info.version, i["version"]);
    assert_eq!(info.firmware, i["firmware-version"]);
    assert_eq!(info.bus_info, i["bus-info"]);

    let n = assert_stats_match(&et);
    // veth: peer_ifindex, 7 counters per rx queue and 2 per tx queue.
    assert_eq!(n, 1 + 4 * 7 + 4 * 2);
    let peer = et
        .driver_stats("a")
        .expect("driver stats")
        .into_iter()
        .find(|c| c.name == "peer_ifindex")
        .expect("peer_ifindex");
    assert!(peer.value > 0);

    // The counter count follows the channel count; the buffers must follow it too.
    et.set_channels(
        "a",
        &Channels {
            rx: Some(1),
            tx: Some(2),
            ..Channels::default()
        },
    )
    .expect("set channels");
    assert_eq!(assert_stats_match(&et), 1 + 7 + 2 * 2);
    et.set_channels(
        "a",
        &Channels {
            rx: Some(4),
            tx: Some(4),
            ..Channels::default()
        },
    )
    .expect("set channels back");
    assert_eq!(assert_stats_match(&et), n);
    println!("driver info and {n} driver counters agree with ethtool");
}

fn inner_link() {
    inside();
    let mut et = open();
    let check = |et: &mut Ethtool| {
        let l = et.link_info("a").expect("link info");
        let f = fields(&ethtool(&["a"]));
        let speed = f["Speed"].strip_suffix("Mb/s").and_then(|s| s.parse().ok());
        assert_eq!(l.speed_mbps, speed, "{l:?} vs {f:?}");
        assert_eq!(
            l.duplex.as_deref(),
            match f["Duplex"].as_str() {
                "Full" => Some("full"),
                "Half" => Some("half"),
                _ => None,
            }
        );
        assert_eq!(l.autoneg, Some(f["Auto-negotiation"] == "on"));
        assert_eq!(l.port.as_deref() == Some("tp"), f["Port"] == "Twisted Pair");
        assert_eq!(l.link_detected, Some(f["Link detected"] == "yes"));
        assert_eq!(
            l.supported_modes.is_empty(),
            f["Supported link modes"] == "Not reported"
        );
        l
    };
    let l = check(&mut et);
    assert_eq!(l.speed_mbps, Some(10_000), "veth reports 10 Gb/s");
    assert_eq!(l.link_detected, Some(false), "both ends are down");
    common::run("ip", &["link", "set", "dev", "a", "up"]);
    common::run("ip", &["link", "set", "dev", "b", "up"]);
    let l = check(&mut et);
    assert_eq!(l.link_detected, Some(true), "both ends are up");
    println!("link info agrees with ethtool: {l:?}");
}

fn inner_missing() {
    inside();
    let mut et = open();
    let expect =
        "failed to find network interface \"nope0\": no such device in this network namespace";
    let e = et.channels("nope0").expect_err("no nope0");
    assert!(
        matches!(e, EthtoolError::NoDevice(ref n) if n == "nope0"),
        "{e:?}"
    );
    assert_eq!(e.to_string(), expect);
    assert!(et.features("nope0").expect_err("features").is_no_device());
    assert!(et.link_info("nope0").expect_err("link").is_no_device());
    let e = et.driver_info("nope0").expect_err("drvinfo");
    assert_eq!(e.to_string(), expect);
    assert!(et.driver_stats("nope0").expect_err("stats").is_no_device());
    let err = ethtool_fails(&["-i", "nope0"]);
    assert!(err.contains("No such device"), "{err}");

    let e = et
        .driver_stats("a-name-longer-than-15")
        .expect_err("too long");
    assert!(e.is_no_device());
    assert_eq!(
        e.to_string(),
        "invalid interface name \"a-name-longer-than-15\": longer than 15 bytes (IFNAMSIZ - 1)"
    );
    assert!(et
        .rings("a-name-longer-than-15")
        .expect_err("too long")
        .is_no_device());
    println!("missing interface: {expect}");
}
