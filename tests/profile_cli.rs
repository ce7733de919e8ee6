//! `dpuctl profile list|show` through the built binary, on the two-socket fixture tree
//! (`tests/fixtures/two-socket`: eth2 mlx5 on NUMA node 1 = CPUs 4-7,12-15, eno1 igb on
//! node 0, GPU 0000:c1:00.0 on node 1) and on a snapshot of it with ethtool settings filled
//! in (`tests/fixtures/profiles/node.json`).
//!
//! Set `DPUCTL_BLESS=1` to rewrite the golden files after an intended change.

mod common;

use common::golden::golden;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

const SHIPPED: [&str; 6] = [
    "balanced",
    "gpu-inference",
    "gpu-training",
    "latency",
    "roce-lossless",
    "throughput",
];

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn node_json() -> String {
    root()
        .join("tests/fixtures/profiles/node.json")
        .display()
        .to_string()
}

/// dpuctl on the fixture tree with the given user profile directory.
fn dpuctl_in(profile_dir: &Path, args: &[&str]) -> Output {
    let f = root().join("tests/fixtures/two-socket");
    Command::new(env!("CARGO_BIN_EXE_dpuctl"))
        .args(args)
        .current_dir(root())
        .env("DPUCTL_SYSFS", f.join("sys"))
        .env("DPUCTL_PROCFS", f.join("proc"))
        .env("DPUCTL_PROFILE_DIR", profile_dir)
        .env("COLUMNS", "100")
        .output()
        .expect("run dpuctl")
}

/// dpuctl on the fixture tree with no user profiles.
fn dpuctl(args: &[&str]) -> Output {
    dpuctl_in(&root().join("tests/fixtures/profiles/no-such-dir"), args)
}

fn stdout(o: &Output) -> String {
    assert!(
        o.status.success(),
        "dpuctl failed: {}\n{}",
        o.status,
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout.clone()).expect("utf-8")
}

fn json(o: &Output) -> Value {
    serde_json::from_str(&stdout(o)).expect("json")
}

/// The settings of one interface and knob kind: (knob fields, value as text).
fn settings<'a>(r: &'a Value, iface: &str, knob: &str) -> Vec<&'a Value> {
    r["settings"]
        .as_array()
        .expect("settings")
        .iter()
        .filter(|s| s["knob"] == knob && (iface.is_empty() || s["iface"] == iface))
        .collect()
}

fn notes(r: &Value) -> Vec<String> {
    r["notes"]
        .as_array()
        .expect("notes")
        .iter()
        .map(|n| n.as_str().expect("note").to_string())
        .collect()
}

/// The skipped settings of a resolved profile, as `SETTING WANT: REASON` lines.
fn skipped(r: &Value) -> Vec<String> {
    r["skipped"]
        .as_array()
        .expect("skipped")
        .iter()
        .map(|s| {
            format!(
                "{} {}: {}",
                s["setting"].as_str().expect("setting"),
                s["want"].as_str().expect("want"),
                s["reason"].as_str().expect("reason")
            )
        })
        .collect()
}

fn cpus(v: &Value) -> Vec<u32> {
    let s = v["value"].as_str().expect("cpu list");
    let mut out = Vec::new();
    for part in s.split(',').filter(|p| !p.is_empty()) {
        match part.split_once('-') {
            Some((a, b)) => out.extend(a.parse::<u32>().expect("n")..=b.parse::<u32>().expect("n")),
            None => out.push(part.parse().expect("n")),
        }
    }
    out
}

#[test]
fn list_shows_the_six_shipped_profiles() {
    let out = stdout(&dpuctl(&["profile", "list"]));
    for name in SHIPPED {
        assert!(
            out.lines()
                .any(|l| l.trim_start().starts_with(name) && l.contains("shipped")),
            "{name} in\n{out}"
        );
    }
    // Not wrapped for a pipe: the header and one line per profile.
    assert_eq!(
        out.lines().count(),
        1 + out.lines().filter(|l| l.contains("shipped")).count(),
        "{out}"
    );
    let v = json(&dpuctl(&["profile", "list", "--format", "json"]));
    let rows = v.as_array().expect("list");
    let names: Vec<&str> = rows
        .iter()
        .map(|r| r["name"].as_str().expect("name"))
        .collect();
    assert_eq!(names, SHIPPED);
    assert!(rows.iter().all(|r| r["source"] == "shipped"));
    assert!(rows
        .iter()
        .all(|r| !r["description"].as_str().expect("d").is_empty()));
    let y: Value =
        yaml_serde::from_str(&stdout(&dpuctl(&["profile", "list", "-f", "yaml"]))).expect("yaml");
    assert_eq!(y, v);
}

#[test]
fn list_includes_user_profiles_first_and_marks_overridden_ones() {
    let d = tempfile::tempdir().expect("tmp");
    std::fs::write(
        d.path().join("latency.yaml"),
        "name: latency\ndescription: Site latency\nextends: latency\n",
    )
    .expect("write");
    std::fs::write(
        d.path().join("site.yaml"),
        "name: site\ndescription: Site defaults\nextends: balanced\n",
    )
    .expect("write");
    let v = json(&dpuctl_in(d.path(), &["profile", "list", "-f", "json"]));
    let rows: Vec<(String, String, String)> = v
        .as_array()
        .expect("list")
        .iter()
        .map(|r| {
            (
                r["name"].as_str().expect("n").to_string(),
                r["source"].as_str().expect("s").to_string(),
                r["description"].as_str().expect("d").to_string(),
            )
        })
        .collect();
    assert_eq!(rows.len(), SHIPPED.len() + 2);
    let lat: Vec<&(String, String, String)> = rows.iter().filter(|r| r.0 == "latency").collect();
    assert!(lat[0].1.ends_with("latency.yaml") && lat[0].2 == "Site latency");
    assert_eq!(lat[1].1, "shipped (overridden)");
    assert!(rows.iter().any(|r| r.0 == "site"));
    // The user profile is the one a name finds, and it extends the shipped one.
    let shown = stdout(&dpuctl_in(
        d.path(),
        &["profile", "show", "latency", "-f", "json"],
    ));
    let p: Value = serde_json::from_str(&shown).expect("json");
    assert_eq!(p["description"], "Site latency");
    assert_eq!(p["sysctl"]["net.core.busy_poll"], 50);
}

#[test]
fn every_shipped_profile_validates_by_path_and_by_name() {
    let mut args = vec!["profile".to_string(), "validate".to_string()];
    args.extend(SHIPPED.iter().map(|n| format!("profiles/{n}.yaml")));
    args.extend(SHIPPED.iter().map(ToString::to_string));
    let a: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = stdout(&dpuctl(&a));
    assert_eq!(out.lines().count(), 2 * SHIPPED.len());
    assert!(out.lines().all(|l| l.starts_with("ok: ")), "{out}");
}

#[test]
fn every_shipped_profile_resolves_on_the_fixture_and_the_snapshot() {
    for name in SHIPPED {
        for extra in [&[][..], &["--from", &node_json()][..]] {
            let mut args = vec!["profile", "show", name, "--resolved", "--format", "json"];
            args.extend_from_slice(extra);
            let r = json(&dpuctl(&args));
            assert_eq!(r["profile"], name);
            // Every sysctl is set, or skipped with a note (latency's busy polling sysctls
            // are absent on the fixture). roce-lossless sets interface knobs only.
            let skipped = skipped(&r)
                .iter()
                .filter(|n| n.starts_with("sysctl "))
                .count();
            assert!(
                name == "roce-lossless" || settings(&r, "", "sysctl").len() + skipped >= 2,
                "{name}: sysctls"
            );
            assert!(
                notes(&r).contains(&"lo: skipped, matched no block".to_string()),
                "{name}: lo is not a PCI NIC"
            );
            // Every interface setting is for a PCI NIC.
            for s in r["settings"].as_array().expect("settings") {
                assert!(s["knob"] == "sysctl" || s["iface"] == "eth2" || s["iface"] == "eno1");
            }
        }
    }
}

#[test]
fn throughput_on_the_fixture_places_eth2_on_node_1_and_skips_ethtool_knobs() {
    let r = json(&dpuctl(&[
        "profile",
        "show",
        "throughput",
        "--resolved",
        "--format",
        "json",
    ]));
    let rmem = settings(&r, "", "sysctl")
        .into_iter()
        .find(|s| s["name"] == "net.core.rmem_max")
        .expect("rmem_max");
    assert_eq!(rmem["value"], "16777216");
    assert_eq!(rmem["at_least"], true, "a floor");
    let irqs = settings(&r, "eth2", "irq_affinity");
    assert_eq!(
        irqs.len(),
        8,
        "one per queue IRQ (121-128), not the async IRQ 120"
    );
    let mut all: Vec<u32> = Vec::new();
    for s in &irqs {
        let c = cpus(s);
        assert_eq!(c.len(), 1, "spread: one CPU per IRQ");
        all.extend(c);
    }
    assert_eq!(
        all,
        [4, 5, 6, 7, 12, 13, 14, 15],
        "node 1, physical cores first"
    );
    assert!(irqs.iter().all(|s| s["irq"] != 120));
    let xps = settings(&r, "eth2", "xps");
    assert_eq!(xps.len(), 8);
    assert!(xps.iter().all(|s| cpus(s)
        .iter()
        .all(|c| [4, 5, 6, 7, 12, 13, 14, 15].contains(c))));
    let eno1: Vec<u32> = settings(&r, "eno1", "irq_affinity")
        .iter()
        .flat_map(|s| cpus(s))
        .collect();
    assert_eq!(eno1, [0, 1, 2, 3]);
    // On a fixture tree ethtool reads nothing: rings and channels are skipped, each with
    // the reason.
    assert!(settings(&r, "eth2", "ring").is_empty());
    assert!(settings(&r, "eth2", "channel").is_empty());
    let sk = skipped(&r);
    for s in [
        "eth2 rings rx max: ethtool reads the running kernel, not a --sysfs-root tree",
        "eth2 channels combined per-local-core: ethtool reads the running kernel, not a \
         --sysfs-root tree",
    ] {
        assert!(sk.contains(&s.to_string()), "{sk:#?}");
    }
    let n = notes(&r);
    assert!(n.contains(&"eth2: irq_affinity cpus nic-numa = 4-7,12-15 (node 1)".to_string()));
}

#[test]
fn gpu_inference_places_irqs_and_rps_on_the_gpu_node() {
    let r = json(&dpuctl(&[
        "profile",
        "show",
        "gpu-inference",
        "--resolved",
        "-f",
        "json",
    ]));
    let gpu_node = [4, 5, 6, 7, 12, 13, 14, 15];
    for iface in ["eth2", "eno1"] {
        let irqs: Vec<u32> = settings(&r, iface, "irq_affinity")
            .iter()
            .flat_map(|s| cpus(s))
            .collect();
        assert!(!irqs.is_empty());
        assert!(
            irqs.iter().all(|c| gpu_node.contains(c)),
            "{iface}: {irqs:?}"
        );
        let rps = settings(&r, iface, "rps");
        assert!(!rps.is_empty());
        assert!(rps.iter().all(|s| cpus(s) == gpu_node), "{iface}");
        let flows = settings(&r, iface, "rps_flow_cnt");
        assert!(flows.iter().all(|s| s["value"] == 4096));
    }
    // eno1 sits on node 0, where there is no GPU: it follows the GPU, and says so.
    assert!(notes(&r).contains(
        &"eno1: irq_affinity cpus gpu-numa: no GPU on the NIC's NUMA node, using GPU 0000:c1:00.0"
            .to_string()
    ));
    assert!(notes(&r).contains(
        &"eth2: irq_affinity cpus gpu-numa = 4-7,12-15 (node 1 of GPU 0000:c1:00.0)".to_string()
    ));
}

#[test]
fn on_the_snapshot_max_percentages_min_and_per_local_core_resolve() {
    let from = node_json();
    let r = json(&dpuctl(&[
        "profile",
        "show",
        "throughput",
        "--resolved",
        "-f",
        "json",
        "--from",
        &from,
    ]));
    let ring = |r: &Value, iface: &str, f: &str| {
        settings(r, iface, "ring")
            .into_iter()
            .find(|s| s["field"] == f)
            .map(|s| s["value"].clone())
    };
    assert_eq!(ring(&r, "eth2", "rx"), Some(8192.into()));
    assert_eq!(ring(&r, "eno1", "tx"), Some(4096.into()));
    let ch = settings(&r, "eth2", "channel");
    assert_eq!(ch.len(), 1);
    assert_eq!(ch[0]["field"], "combined");
    assert_eq!(ch[0]["value"], 4, "4 physical cores on node 1");
    let n = notes(&r);
    assert!(n.contains(&"eth2: rings rx 'max' = 8192".to_string()));
    let sk = skipped(&r);
    assert!(
        sk.contains(&"eno1 feature rx-lro on: fixed off on this device".to_string()),
        "{sk:#?}"
    );
    let b = json(&dpuctl(&[
        "profile",
        "show",
        "balanced",
        "--resolved",
        "-f",
        "json",
        "--from",
        &from,
    ]));
    assert_eq!(ring(&b, "eth2", "rx"), Some(4096.into()), "50% of 8192");
    let g = json(&dpuctl(&[
        "profile",
        "show",
        "gpu-inference",
        "--resolved",
        "-f",
        "json",
        "--from",
        &from,
    ]));
    assert_eq!(
        ring(&g, "eth2", "rx"),
        Some(4096.into()),
        "min(4096, max) with max 8192"
    );
}

#[test]
fn a_number_above_the_device_maximum_fails_naming_interface_and_maximum() {
    let d = tempfile::tempdir().expect("tmp");
    let p = d.path().join("big.yaml");
    std::fs::write(
        &p,
        "name: big\ndescription: Rings above max\ninterfaces:\n  - match: {name: eth2}\n    rings: {rx: 16384}\n",
    )
    .expect("write");
    let o = dpuctl(&[
        "profile",
        "show",
        &p.display().to_string(),
        "--resolved",
        "--from",
        &node_json(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&o.stderr),
        "dpuctl: profile big: eth2: rings rx 16384 is above the device maximum 8192\n"
    );
    std::fs::write(
        &p,
        "name: big\ndescription: Rings up to max\ninterfaces:\n  - match: {name: eth2}\n    rings: {rx: 'min(16384, max)'}\n",
    )
    .expect("write");
    let r = json(&dpuctl(&[
        "profile",
        "show",
        &p.display().to_string(),
        "--resolved",
        "-f",
        "json",
        "--from",
        &node_json(),
    ]));
    assert_eq!(settings(&r, "eth2", "ring")[0]["value"], 8192);
}

#[test]
fn show_prints_the_profile_as_written_with_its_comments() {
    for name in SHIPPED {
        let out = stdout(&dpuctl(&["profile", "show", name]));
        let file = std::fs::read_to_string(root().join(format!("profiles/{name}.yaml")))
            .expect("shipped file");
        assert_eq!(
            out, file,
            "{name}: show prints the shipped file byte for byte"
        );
    }
    // A user profile is read from its file, comments and all.
    let d = tempfile::tempdir().expect("tmp");
    let text = "# Why: site-wide busy polling.\nname: site\ndescription: Site\nextends: latency\nsysctl:\n  \
                # 30 us is enough for our RPCs.\n  net.core.busy_poll: 30\n";
    std::fs::write(d.path().join("site.yaml"), text).expect("write");
    assert_eq!(
        stdout(&dpuctl_in(d.path(), &["profile", "show", "site"])),
        text
    );
    let path = d.path().join("site.yaml").display().to_string();
    assert_eq!(
        stdout(&dpuctl_in(d.path(), &["profile", "show", &path])),
        text
    );
}

#[test]
fn show_refuses_a_table_of_an_unresolved_profile_and_tables_the_resolved_one() {
    let o = dpuctl(&["profile", "show", "latency", "-f", "table"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(o.stdout.is_empty(), "no YAML on stdout");
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("--resolved"), "{err}");
    let t = stdout(&dpuctl(&[
        "profile",
        "show",
        "latency",
        "--resolved",
        "-f",
        "table",
    ]));
    assert!(t.starts_with("profile latency on "), "{t}");
    assert!(!t.contains("sysctl:"), "{t}");
}

#[test]
fn show_json_applies_inheritance_and_round_trips() {
    let shown = json(&dpuctl(&["profile", "show", "gpu-training", "-f", "json"]));
    assert_eq!(shown["name"], "gpu-training");
    assert!(shown.get("extends").is_none());
    assert_eq!(shown["interfaces"].as_array().map(Vec::len), Some(2));
    assert_eq!(shown["interfaces"][0]["rings"]["rx"], "max");
    assert_eq!(shown["interfaces"][1]["irq_affinity"]["cpus"], "gpu-numa");
    assert_eq!(
        shown["sysctl"]["net.core.rmem_max"], ">= 67108864",
        "gpu-training's own value"
    );
    assert_eq!(
        shown["sysctl"]["net.core.netdev_max_backlog"], ">= 250000",
        "from throughput"
    );
    // Written back as YAML, the JSON form is itself a valid profile.
    let out = yaml_serde::to_string(&shown).expect("yaml");
    // What show prints is a valid profile that resolves to the same settings.
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("gpu-training.yaml");
    std::fs::write(&path, &out).expect("write");
    let file = path.display().to_string();
    assert!(stdout(&dpuctl(&["profile", "validate", &file])).starts_with("ok: "));
    let by_name = json(&dpuctl(&[
        "profile",
        "show",
        "gpu-training",
        "--resolved",
        "-f",
        "json",
    ]));
    let by_file = json(&dpuctl(&[
        "profile",
        "show",
        &file,
        "--resolved",
        "-f",
        "json",
    ]));
    assert_eq!(by_name["settings"], by_file["settings"]);
}

#[test]
fn resolved_tables_match_golden_and_fit_100_columns() {
    let t = stdout(&dpuctl(&[
        "profile",
        "show",
        "gpu-inference",
        "--resolved",
        "-f",
        "table",
    ]));
    assert!(t.lines().all(|l| l.chars().count() <= 100), "{t}");
    assert!(t.contains(" object  knob"));
    golden(
        "tests/fixtures/profiles/gpu-inference.two-socket.golden",
        &t,
    );
    let from = node_json();
    let t = stdout(&dpuctl(&[
        "profile",
        "show",
        "throughput",
        "--resolved",
        "-f",
        "table",
        "--from",
        &from,
    ]));
    assert!(t.lines().all(|l| l.chars().count() <= 100), "{t}");
    golden("tests/fixtures/profiles/throughput.node.golden", &t);
    let y: Value = yaml_serde::from_str(&stdout(&dpuctl(&[
        "profile",
        "show",
        "latency",
        "--resolved",
    ])))
    .expect("yaml is the default format");
    assert_eq!(y["profile"], "latency");
}

#[test]
fn spread_with_exclude_puts_every_core_before_second_threads() {
    let d = tempfile::tempdir().expect("tmp");
    std::fs::write(
        d.path().join("hk.yaml"),
        "name: hk\ndescription: Housekeeping CPU 5 left out\ninterfaces:\n  - match: {name: eth2}\n    irq_affinity: {cpus: nic-numa, exclude: 5, spread: true}\n",
    )
    .expect("write");
    let r = json(&dpuctl_in(
        d.path(),
        &["profile", "show", "hk", "--resolved", "-f", "json"],
    ));
    let order: Vec<u32> = settings(&r, "eth2", "irq_affinity")
        .iter()
        .flat_map(|s| cpus(s))
        .collect();
    // Node 1 is cores (4,12) (5,13) (6,14) (7,15); without 5, 13 is its core's only thread
    // and comes in the first round.
    assert_eq!(order, [4, 6, 7, 13, 12, 14, 15, 4]);
}

/// `node-dcb.json` is `node.json` with recorded DCB state: eth2 (mlx5) answers dcbnl with PFC
/// off (`struct ieee_pfc`, `pfc_cap` 8), the ETS `mlx5e_ets_init` leaves (`struct ieee_ets`:
/// `ets_cap` 8, every traffic class `IEEE_8021QAZ_TSA_VENDOR` at 100, `prio_tc` 1 0 2 3 4 5
/// 6 7), an empty APP table and no APP trust table (mlx5 has no `dcbnl_getapptrust`); eno1
/// (igb) has no DCB, as dcbnl says on igb. Made with `jq --sort-keys` from `node.json`,
/// setting `.dcb` of eth2 to `{pfc: {pfc_cap: 8, pfc_en: 0, ...}, ets: {...}, apps: []}` and
/// of eno1 to `{"n/a": "no DCB (dcbnl) in igb"}`.
fn node_dcb_json() -> String {
    root()
        .join("tests/fixtures/profiles/node-dcb.json")
        .display()
        .to_string()
}

#[test]
fn roce_lossless_sets_pfc_on_the_mlx5_with_dcb_and_says_na_on_igb() {
    let o = dpuctl(&[
        "check",
        "roce-lossless",
        "--from",
        &node_dcb_json(),
        "-f",
        "json",
    ]);
    let r: Value = serde_json::from_slice(&o.stdout).expect("check json");
    assert_eq!(o.status.code(), Some(1), "drift: {r}");
    let compared = r["compared"].as_array().expect("compared");
    let has = |iface: &str, knob: &str, field: Option<&str>| {
        compared.iter().find(|c| {
            c["iface"] == iface && c["knob"] == knob && field.is_none_or(|f| c["field"] == f)
        })
    };
    // PFC on priority 3 is compared (and drifts) where dcbnl answered.
    let pfc = has("eth2", "pfc", None).expect("eth2 pfc compared");
    assert_eq!(pfc["want"], "3");
    assert_eq!(pfc["have"], "none");
    // Global pause goes off with PFC where PFC applies (the profile says nothing of pause);
    // igb keeps its pause: without PFC it would have no flow control at all.
    for f in ["rx", "tx"] {
        assert_eq!(has("eth2", "pause", Some(f)).expect("pause")["want"], false);
        assert!(has("eno1", "pause", Some(f)).is_none(), "{r}");
    }
    // Hardware ETS: CNP strict on traffic class 2, RoCE and the rest 50/50 on 1 and 0.
    let ets = has("eth2", "dcb_ets", None).expect("eth2 ets compared");
    assert_eq!(
        ets["want"],
        "tc-bw 50 50 0 0 0 0 0 0 tc-tsa ets ets strict ets ets ets ets ets prio-tc 0 0 0 1 0 0 2 0"
    );
    assert!(ets["have"]
        .as_str()
        .is_some_and(|h| h.contains("tc-tsa vendor vendor")));
    // The DSCP APP entries; no qdisc where hardware ETS carries the classes.
    let app = |d: u64| {
        compared
            .iter()
            .find(|c| c["iface"] == "eth2" && c["knob"] == "dcb_app" && c["protocol"] == d)
    };
    assert_eq!(app(26).expect("dscp 26")["want"], "3");
    assert_eq!(app(48).expect("dscp 48")["want"], "6");
    assert_eq!(app(26).expect("dscp 26")["have"], "none");
    assert!(has("eth2", "qdisc", None).is_none(), "{r}");
    // igb: n/a with the reason, never compared.
    assert!(has("eno1", "pfc", None).is_none());
    let skipped: Vec<String> = r["skipped"]
        .as_array()
        .expect("skipped")
        .iter()
        .map(|s| {
            format!(
                "{} {}: {}",
                s["setting"].as_str().unwrap_or(""),
                s["want"],
                s["reason"]
            )
        })
        .collect();
    for line in [
        "eno1 dcb pfc \"3\": \"no DCB (dcbnl) in igb\"",
        "eno1 dcb app dscp-prio 26 \"3\": \"no DCB (dcbnl) in igb\"",
        "eno1 dcb apptrust \"dscp\": \"no DCB (dcbnl) in igb\"",
        "eno1 dcb ets \"qos classes\": \"no DCB (dcbnl) in igb; the software qdisc carries \
         the classes\"",
        "eth2 dcb apptrust \"dscp\": \"the driver reports no APP trust order (dcbnl \
         apptrust, Linux 6.3+)\"",
    ] {
        assert!(skipped.contains(&line.to_string()), "{line}: {skipped:?}");
    }
}

/// The plan on the mlx5 says why pause goes off, and writes pause, PFC, ETS and APP in that
/// order: pause off before PFC on (never both on), the APP entries after the classes.
#[test]
fn roce_lossless_plan_turns_pause_off_with_pfc_and_says_why() {
    let r = json(&dpuctl(&[
        "profile",
        "show",
        "roce-lossless",
        "--resolved",
        "-f",
        "json",
        "--from",
        &node_dcb_json(),
    ]));
    let notes: Vec<&str> = r["notes"]
        .as_array()
        .expect("notes")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(
        notes.contains(
            &"eth2: pause rx/tx off: pfc is on for priorities 3, and link-level pause would \
              stop every priority"
        ),
        "{notes:?}"
    );
    assert!(
        notes.contains(&"eno1: pause left as it is: pfc is n/a (no DCB (dcbnl) in igb)"),
        "{notes:?}"
    );
    // What the rule added, with why: `tune` prints it with the plan.
    assert_eq!(
        r["implied"],
        serde_json::json!([
            "eth2: pause rx/tx off: pfc is on for priorities 3, and link-level pause would stop \
             every priority"
        ])
    );
    let order: Vec<String> = r["settings"]
        .as_array()
        .expect("settings")
        .iter()
        .filter(|s| s["iface"] == "eth2")
        .map(|s| s["knob"].as_str().unwrap_or("").to_string())
        .collect();
    assert_eq!(
        order,
        [
            "pause",
            "pause",
            "pfc",
            "dcb_ets",
            "dcb_app",
            "dcb_app",
            "dcb_trust"
        ]
    );
}

#[test]
fn roce_lossless_composes_with_gpu_training() {
    let d = tempfile::tempdir().expect("tmp");
    std::fs::write(
        d.path().join("site.yaml"),
        "name: site\ndescription: training over lossless RoCE\nextends: [gpu-training, roce-lossless]\n",
    )
    .expect("write");
    let r = json(&dpuctl_in(
        d.path(),
        &[
            "profile",
            "show",
            "site",
            "--resolved",
            "-f",
            "json",
            "--from",
            &node_dcb_json(),
        ],
    ));
    // gpu-training's sysctls and XPS, roce-lossless's PFC, pause, classes and APP table.
    assert!(settings(&r, "", "sysctl")
        .iter()
        .any(|s| s["name"] == "net.ipv4.fib_multipath_hash_policy"));
    assert!(!settings(&r, "eth2", "xps").is_empty(), "{r}");
    let pfc = settings(&r, "eth2", "pfc");
    assert_eq!(pfc.len(), 1, "{r}");
    assert_eq!(pfc[0]["value"], "3");
    // The classes: hardware ETS on the mlx5, the software ets qdisc on the igb.
    let e = settings(&r, "eth2", "dcb_ets");
    assert_eq!(e.len(), 1, "{r}");
    assert!(settings(&r, "eth2", "qdisc").is_empty(), "{r}");
    let q = settings(&r, "eno1", "qdisc");
    assert_eq!(q.len(), 1, "{r}");
    assert!(q[0]["value"]
        .as_str()
        .expect("qdisc")
        .starts_with("ets bands 3 strict 1"));
    assert_eq!(settings(&r, "eth2", "dcb_app").len(), 2, "{r}");
    assert!(settings(&r, "eth2", "pause")
        .iter()
        .all(|s| s["value"] == false));
}

/// PFC from one block and global pause on from another, for the same interface: refused with
/// both blocks named, exit 2, before anything is planned.
#[test]
fn pfc_and_pause_on_from_two_blocks_are_refused_naming_both() {
    let d = tempfile::tempdir().expect("tmp");
    std::fs::write(
        d.path().join("clash.yaml"),
        "name: clash\ndescription: pfc and pause from two blocks\nextends: [roce-lossless]\n\
         interfaces:\n  - match: {name: eth2}\n    pause: {tx: on}\n",
    )
    .expect("write");
    let o = dpuctl_in(
        d.path(),
        &[
            "profile",
            "show",
            "clash",
            "--resolved",
            "--from",
            &node_dcb_json(),
        ],
    );
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains(
            "eth2: pfc on priorities 3 (roce-lossless interfaces[0]) and global pause tx on \
             (interfaces[0]): link-level pause stops every priority"
        ),
        "{err}"
    );
}
