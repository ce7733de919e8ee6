//! Scenario tests of the monitor engine: each file in `tests/fixtures/monitor/*.yaml` describes
//! a series of samples (a timeline of counter increments, resets, interfaces vanishing, driver
//! counters, temperatures) and the rates, bursts and alerts the engine must report. The
//! samples also go through the recording format and back, and must give the same results.
//!
//! Format (all times with units, e.g. `1ms`):
//!
//! ```yaml
//! about: one line
//! interval: 1ms                 # sample interval (default 1ms)
//! line_rate: 1G                 # --line-rate (optional)
//! thresholds: [rx_fifo_errors=5]  # --threshold flags (optional)
//! ifaces: {eth0: {ifindex: 2, speed_mbps: 1000, counters: {rx_bytes: 7}, wrap32: false}}
//! timeline:
//!   - for: 100ms                # samples every interval for this long...
//!     add: {eth0: {rx_bytes: 1000, rx_packets: 1}}  # ...each adding this
//!   - set: {eth0: {rx_bytes: 5}}  # one sample with these absolute values
//!   - slow: {eth0: {driver: ixgbe, stats: {rx_no_buffer_count: 4}, tx_timeouts: {0: 1},
//!            temps: [{label: asic, celsius: 90, crit: 95}]}, softnet: [0, 1, 2],
//!            sockets: {udp_rcvbuf_errors: 4, tcp_backlog_drop: 1},
//!            rdma: {mlx5_0/1: {driver: mlx5_core, netdev: eth0, counters: {out_of_sequence: 3}}}}
//!                               # slow reads for the next sample; also `pfc: {requests:
//!                               # [..8], indications: [..8]}` (dcbnl) and `bands: [{class:
//!                               # 65538, kind: ets, stats: {bytes: .., packets: .., drops:
//!                               # .., overlimits: .., requeues: .., backlog: .., qlen: ..}}]`
//!   - vanish: [eth0]            # eth0 is missing from the following samples
//!   - return: [eth0]            # and back
//!   - view: first               # take a view and name it
//! expect:
//!   views: {first: {eth0: {rx_bps: 8e6, present: true}}}  # numbers within 1%
//!                               # (also class:NAME, raw:COUNTER, queue:rx:0:pps,
//!                               # pause:rx:3:share, band:1:2:drops)
//!   # RDMA ports: "rdma:DEV/PORT" with class:C (rate), total:C, counter:NAME (rate),
//!   # class_of:NAME, or a field of the port's view (driver, netdev, present)
//!   bursts: [{iface: eth0, dir: rx, start: 100ms, duration: 5ms, bytes: 1, drops: 0}]
//!   alerts: [{iface: eth0, metric: rx_crc_errors, at: 1s}]
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use dpuctl::model::{Counters, Temperature};
use dpuctl::monitor::rate::{counter_index, counters_from_array, N_COUNTERS};
use dpuctl::monitor::record::{Header, Reader, Recorder};
use dpuctl::monitor::sample::RdmaPortSample;
use dpuctl::monitor::{
    DriverStats, Engine, EngineConfig, IfaceSample, Sample, SlowIface, SocketTotals, SoftnetTotals,
    View,
};
use dpuctl::units::{parse_duration, parse_rate as parse_line_rate};
use yaml_serde::Value;

fn fixtures() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/monitor");
    let mut v: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("fixture dir")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    v.sort();
    assert!(v.len() >= 5, "scenario files missing in {}", dir.display());
    v
}

fn ns(v: &Value) -> u64 {
    parse_duration(v.as_str().expect("duration string"))
        .expect("duration")
        .as_nanos() as u64
}

#[derive(Clone)]
struct IfState {
    ifindex: u32,
    name: Arc<str>,
    speed: Option<u64>,
    c: [u64; N_COUNTERS],
    present: bool,
    /// The driver keeps 32-bit counters: they wrap at 2^32.
    wrap32: bool,
}

/// A scenario turned into samples, with the view points.
struct Built {
    cfg: EngineConfig,
    samples: Vec<Sample>,
    /// View name -> index of the last sample before it.
    views: Vec<(String, usize)>,
}

fn build(doc: &Value) -> Built {
    let interval = doc.get("interval").map_or(1_000_000, ns);
    let mut cfg = EngineConfig::default();
    if let Some(lr) = doc.get("line_rate") {
        cfg.line_rate_bps = Some(parse_line_rate(lr.as_str().expect("line_rate")).expect("rate"));
    }
    for t in doc
        .get("thresholds")
        .and_then(Value::as_sequence)
        .into_iter()
        .flatten()
    {
        cfg.thresholds
            .apply_flag(t.as_str().expect("threshold flag"))
            .expect("threshold");
    }
    let mut ifs: BTreeMap<String, IfState> = BTreeMap::new();
    for (k, v) in doc["ifaces"].as_mapping().expect("ifaces") {
        let name = k.as_str().expect("name").to_string();
        let mut c = [0; N_COUNTERS];
        for (f, x) in v
            .get("counters")
            .and_then(Value::as_mapping)
            .into_iter()
            .flatten()
        {
            let n = f.as_str().expect("counter");
            c[counter_index(n).unwrap_or_else(|| panic!("unknown counter {n}"))] =
                x.as_u64().expect("value");
        }
        ifs.insert(
            name.clone(),
            IfState {
                ifindex: v["ifindex"].as_u64().expect("ifindex") as u32,
                name: Arc::from(name.as_str()),
                speed: v.get("speed_mbps").and_then(Value::as_u64),
                c,
                present: true,
                wrap32: v.get("wrap32").and_then(Value::as_bool).unwrap_or(false),
            },
        );
    }
    let mut t = 0u64;
    let mut samples = Vec::new();
    let mut views = Vec::new();
    let mut slow: BTreeMap<String, SlowIface> = BTreeMap::new();
    let mut softnet: Option<SoftnetTotals> = None;
    let mut sockets: Option<SocketTotals> = None;
    let mut rdma: Vec<RdmaPortSample> = Vec::new();
    let emit = |ifs: &BTreeMap<String, IfState>,
                t: u64,
                slow: &mut BTreeMap<String, SlowIface>,
                softnet: &mut Option<SoftnetTotals>,
                sockets: &mut Option<SocketTotals>,
                rdma: &mut Vec<RdmaPortSample>,
                samples: &mut Vec<Sample>| {
        let mut ifaces: Vec<IfaceSample> = ifs
            .iter()
            .filter(|(_, s)| s.present)
            .map(|(n, s)| IfaceSample {
                ifindex: s.ifindex,
                name: s.name.clone(),
                up: true,
                speed_mbps: s.speed,
                counters: counters_from_array(&s.c),
                slow: slow.remove(n).map(Box::new),
            })
            .collect();
        ifaces.sort_by_key(|i| i.ifindex);
        samples.push(Sample {
            t_ns: t,
            wall_ms: 1_700_000_000_000 + t / 1_000_000,
            ifaces,
            softnet: softnet.take(),
            sockets: sockets.take(),
            node: None,
            flows: Vec::new(),
            rdma: std::mem::take(rdma),
        });
    };
    let field = |k: &Value| {
        let n = k.as_str().expect("counter name");
        counter_index(n).unwrap_or_else(|| panic!("unknown counter {n}"))
    };
    // The first sample: every interface at its initial counters.
    emit(
        &ifs,
        t,
        &mut slow,
        &mut softnet,
        &mut sockets,
        &mut rdma,
        &mut samples,
    );
    for step in doc["timeline"].as_sequence().expect("timeline") {
        if let Some(d) = step.get("for") {
            let n = ns(d) / interval;
            for _ in 0..n {
                t += interval;
                for (iface, adds) in step["add"].as_mapping().expect("add") {
                    let s = ifs
                        .get_mut(iface.as_str().expect("iface"))
                        .expect("known iface");
                    for (k, v) in adds.as_mapping().expect("counters") {
                        let i = field(k);
                        s.c[i] = s.c[i].wrapping_add(v.as_u64().expect("increment"));
                        if s.wrap32 {
                            s.c[i] &= u64::from(u32::MAX);
                        }
                    }
                }
                emit(
                    &ifs,
                    t,
                    &mut slow,
                    &mut softnet,
                    &mut sockets,
                    &mut rdma,
                    &mut samples,
                );
            }
        } else if let Some(sets) = step.get("set") {
            t += interval;
            for (iface, vals) in sets.as_mapping().expect("set") {
                let s = ifs
                    .get_mut(iface.as_str().expect("iface"))
                    .expect("known iface");
                for (k, v) in vals.as_mapping().expect("counters") {
                    s.c[field(k)] = v.as_u64().expect("value");
                }
            }
            emit(
                &ifs,
                t,
                &mut slow,
                &mut softnet,
                &mut sockets,
                &mut rdma,
                &mut samples,
            );
        } else if let Some(s) = step.get("slow") {
            for (iface, v) in s.as_mapping().expect("slow") {
                let name = iface.as_str().expect("name");
                if name == "sockets" {
                    let mut a = [0u64; SocketTotals::N];
                    for (k, x) in v.as_mapping().expect("sockets") {
                        let k = k.as_str().expect("counter");
                        let i = SocketTotals::NAMES
                            .iter()
                            .position(|n| *n == k)
                            .unwrap_or_else(|| panic!("unknown socket counter {k}"));
                        a[i] = x.as_u64().expect("value");
                    }
                    sockets = Some(SocketTotals::from_array(a));
                    continue;
                }
                if name == "rdma" {
                    for (key, p) in v.as_mapping().expect("rdma ports") {
                        let key = key.as_str().expect("DEV/PORT");
                        let (dev, port) = key.split_once('/').expect("DEV/PORT");
                        let counters = p["counters"].as_mapping().expect("counters");
                        rdma.push(RdmaPortSample {
                            device: dev.to_string(),
                            port: port.parse().expect("port"),
                            driver: p.get("driver").and_then(Value::as_str).map(String::from),
                            netdev: p.get("netdev").and_then(Value::as_str).map(String::from),
                            counters: DriverStats {
                                names: counters
                                    .keys()
                                    .map(|k| k.as_str().expect("name").to_string())
                                    .collect(),
                                values: counters
                                    .values()
                                    .map(|x| x.as_u64().expect("value"))
                                    .collect(),
                            },
                        });
                    }
                    continue;
                }
                if name == "softnet" {
                    let x: Vec<u64> = v
                        .as_sequence()
                        .expect("softnet")
                        .iter()
                        .map(|x| x.as_u64().expect("n"))
                        .collect();
                    softnet = Some(SoftnetTotals {
                        processed: x[0],
                        dropped: x[1],
                        time_squeeze: x[2],
                    });
                    continue;
                }
                let stats = v.get("stats").and_then(Value::as_mapping).map(|m| {
                    let names: Vec<String> = m
                        .keys()
                        .map(|k| k.as_str().expect("name").to_string())
                        .collect();
                    DriverStats {
                        names: Arc::from(names),
                        values: m.values().map(|x| x.as_u64().expect("value")).collect(),
                    }
                });
                slow.insert(
                    name.to_string(),
                    SlowIface {
                        driver: v.get("driver").and_then(Value::as_str).map(String::from),
                        driver_stats: stats,
                        driver_stats_na: None,
                        tx_timeouts: v
                            .get("tx_timeouts")
                            .and_then(Value::as_mapping)
                            .map(|m| {
                                m.iter()
                                    .map(|(q, n)| {
                                        (
                                            q.as_u64().expect("queue") as u32,
                                            n.as_u64().expect("count"),
                                        )
                                    })
                                    .collect()
                            })
                            .unwrap_or_default(),
                        temps: v
                            .get("temps")
                            .and_then(Value::as_sequence)
                            .map(|ts| {
                                ts.iter()
                                    .map(|x| Temperature {
                                        label: x["label"].as_str().expect("label").into(),
                                        celsius: x["celsius"].as_f64().expect("celsius"),
                                        crit: x.get("crit").and_then(Value::as_f64),
                                    })
                                    .collect()
                            })
                            .unwrap_or_default(),
                        mtu: None,
                        carrier_changes: None,
                        module: v
                            .get("module")
                            .map(|m| yaml_serde::from_value(m.clone()).expect("module reading")),
                        bands: v
                            .get("bands")
                            .map(|m| yaml_serde::from_value(m.clone()).expect("bands")),
                        pfc: v
                            .get("pfc")
                            .map(|m| yaml_serde::from_value(m.clone()).expect("pfc counters")),
                    },
                );
            }
        } else if let Some(v) = step.get("vanish") {
            for n in v.as_sequence().expect("names") {
                ifs.get_mut(n.as_str().expect("name"))
                    .expect("iface")
                    .present = false;
            }
        } else if let Some(v) = step.get("return") {
            for n in v.as_sequence().expect("names") {
                ifs.get_mut(n.as_str().expect("name"))
                    .expect("iface")
                    .present = true;
            }
        } else if let Some(v) = step.get("view") {
            views.push((
                v.as_str().expect("view name").to_string(),
                samples.len() - 1,
            ));
        } else {
            panic!("unknown timeline step {step:?}");
        }
    }
    Built {
        cfg,
        samples,
        views,
    }
}

/// Runs the engine; returns the named views and every burst and alert seen.
fn run(b: &Built, samples: &[Sample]) -> (BTreeMap<String, View>, View) {
    let mut e = Engine::new(b.cfg.clone());
    let mut views = BTreeMap::new();
    let mut all = View::default();
    let collect = |v: View, all: &mut View| {
        for (i, iv) in v.ifaces.iter().enumerate() {
            if all.ifaces.len() <= i {
                all.ifaces.push(iv.clone());
                all.ifaces[i].ended_bursts.clear();
            }
            all.ifaces[i]
                .ended_bursts
                .extend(iv.ended_bursts.iter().cloned());
        }
        all.new_alerts.extend(v.new_alerts.iter().cloned());
        v
    };
    for (i, s) in samples.iter().enumerate() {
        e.ingest(s);
        for (name, _) in b.views.iter().filter(|(_, at)| *at == i) {
            let v = collect(e.view(), &mut all);
            views.insert(name.clone(), v);
        }
    }
    e.finish();
    collect(e.view(), &mut all);
    (views, all)
}

fn close(got: f64, want: f64) -> bool {
    (got - want).abs() <= want.abs() * 0.01 + 1e-6
}

fn check(path: &Path, doc: &Value, views: &BTreeMap<String, View>, all: &View) -> Vec<String> {
    let mut errs = Vec::new();
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let expect = &doc["expect"];
    for (vname, ifs) in expect
        .get("views")
        .and_then(Value::as_mapping)
        .into_iter()
        .flatten()
    {
        let vname = vname.as_str().expect("view name");
        let Some(v) = views.get(vname) else {
            errs.push(format!("{name}: no view {vname}"));
            continue;
        };
        for (iface, fields) in ifs.as_mapping().expect("ifaces") {
            let iface = iface.as_str().expect("iface");
            if iface == "sockets" {
                let got = serde_json::to_value(v.sockets).expect("json");
                for (k, want) in fields.as_mapping().expect("fields") {
                    let k = k.as_str().expect("field");
                    let g = got.get(k).and_then(serde_json::Value::as_f64);
                    let w = want.as_f64().expect("number");
                    if !g.is_some_and(|g| close(g, w)) {
                        errs.push(format!(
                            "{name}: view {vname}: sockets {k} = {g:?}, want {w}"
                        ));
                    }
                }
                continue;
            }
            if let Some(key) = iface.strip_prefix("rdma:") {
                errs.extend(check_rdma(&name, vname, v, key, fields));
                continue;
            }
            if iface == "softnet" {
                for (k, want) in fields.as_mapping().expect("fields") {
                    let k = k.as_str().expect("field");
                    let got = match k {
                        "dropped" => v.softnet_dropped,
                        "squeezed" => v.softnet_squeezed,
                        _ => panic!("unknown softnet field {k}"),
                    };
                    let w = want.as_f64().expect("number");
                    if !close(got, w) {
                        errs.push(format!(
                            "{name}: view {vname}: softnet {k} = {got}, want {w}"
                        ));
                    }
                }
                continue;
            }
            let Some(iv) = v.ifaces.iter().find(|i| i.name == iface) else {
                errs.push(format!("{name}: view {vname}: no interface {iface}"));
                continue;
            };
            let json = serde_json::to_value(iv).expect("json");
            for (k, want) in fields.as_mapping().expect("fields") {
                let k = k.as_str().expect("field");
                // Rates by name, then top-level fields, then class/queue lookups.
                let got = if let Some(class) = k.strip_prefix("class:") {
                    iv.classes
                        .iter()
                        .filter(|c| c.class == class)
                        .map(|c| c.rate)
                        .sum::<f64>()
                        .into()
                } else if let Some(counter) = k.strip_prefix("raw:") {
                    iv.raw
                        .iter()
                        .find(|c| c.counter == counter)
                        .map_or(serde_json::Value::Null, |c| c.rate.into())
                } else if let Some(q) = k.strip_prefix("queue:") {
                    // queue:rx:0:pps
                    let p: Vec<&str> = q.split(':').collect();
                    iv.queues
                        .iter()
                        .find(|x| x.dir == p[0] && x.index.to_string() == p[1])
                        .map_or(serde_json::Value::Null, |x| {
                            serde_json::to_value(x).expect("json")[p[2]].clone()
                        })
                } else if let Some(p) = k.strip_prefix("pause:") {
                    // pause:rx:3:share (priority `global` for link-level pause)
                    let p: Vec<&str> = p.split(':').collect();
                    iv.pause
                        .iter()
                        .find(|x| {
                            x.dir == p[0]
                                && x.priority
                                    .map_or_else(|| "global".into(), |v| v.to_string())
                                    == p[1]
                        })
                        .map_or(serde_json::Value::Null, |x| {
                            serde_json::to_value(x).expect("json")[p[2]].clone()
                        })
                } else if let Some(b) = k.strip_prefix("band:") {
                    // band:1:3:drops (class id as tc prints it, then a field)
                    let (class, field) = b.rsplit_once(':').expect("band:CLASS:FIELD");
                    iv.bands
                        .iter()
                        .find(|x| x.class == class)
                        .map_or(serde_json::Value::Null, |x| {
                            serde_json::to_value(x).expect("json")[field].clone()
                        })
                } else if let Some(x) = json["rates"].get(k) {
                    x.clone()
                } else if k == "rx_bursts" || k == "tx_bursts" {
                    json[k]["count"].clone()
                } else {
                    json.get(k).cloned().unwrap_or(serde_json::Value::Null)
                };
                let ok = if let (Some(w), Some(g)) = (want.as_f64(), got.as_f64()) {
                    close(g, w)
                } else {
                    serde_json::to_value(want).expect("json") == got
                };
                if !ok {
                    errs.push(format!(
                        "{name}: view {vname}: {iface}.{k} = {got}, want {want:?}"
                    ));
                }
            }
        }
    }
    let bursts: Vec<(String, &dpuctl::monitor::DirBurst)> = all
        .ifaces
        .iter()
        .flat_map(|i| i.ended_bursts.iter().map(move |b| (i.name.clone(), b)))
        .collect();
    if let Some(want) = expect.get("bursts").and_then(Value::as_sequence) {
        if want.len() != bursts.len() {
            errs.push(format!(
                "{name}: {} bursts, want {}: {bursts:?}",
                bursts.len(),
                want.len()
            ));
        }
        for (w, (iface, b)) in want.iter().zip(&bursts) {
            let mut ok = w["iface"].as_str() == Some(iface) && w["dir"].as_str() == Some(&b.dir);
            ok &= w.get("start").is_none_or(|s| ns(s) == b.burst.start_ns);
            ok &= w
                .get("duration")
                .is_none_or(|s| ns(s) == b.burst.duration_ns);
            ok &= w
                .get("bytes")
                .is_none_or(|s| s.as_u64() == Some(b.burst.bytes));
            ok &= w.get("drops").is_none_or(|s| s.as_u64() == b.burst.drops);
            ok &= w
                .get("peak_util")
                .is_none_or(|s| close(b.burst.peak_util, s.as_f64().expect("peak")));
            if !ok {
                errs.push(format!("{name}: burst {b:?} on {iface}, want {w:?}"));
            }
        }
    }
    if let Some(want) = expect.get("alerts").and_then(Value::as_sequence) {
        let got = &all.new_alerts;
        if want.len() != got.len() {
            errs.push(format!(
                "{name}: {} alerts, want {}: {got:?}",
                got.len(),
                want.len()
            ));
        }
        for (w, a) in want.iter().zip(got) {
            let mut ok =
                w["iface"].as_str() == Some(&a.iface) && w["metric"].as_str() == Some(&a.metric);
            ok &= w.get("at").is_none_or(|s| ns(s) == a.t_ns);
            ok &= w
                .get("value")
                .is_none_or(|s| close(a.value, s.as_f64().expect("value")));
            if !ok {
                errs.push(format!("{name}: alert {a:?}, want {w:?}"));
            }
        }
    }
    errs
}

/// The expectations of one RDMA port (`rdma:DEV/PORT`) in a view.
fn check_rdma(name: &str, vname: &str, v: &View, key: &str, fields: &Value) -> Vec<String> {
    let mut errs = Vec::new();
    let Some(p) = v.rdma.iter().find(|p| p.key() == key) else {
        return vec![format!("{name}: view {vname}: no RDMA port {key}")];
    };
    let json = serde_json::to_value(p).expect("json");
    for (k, want) in fields.as_mapping().expect("fields") {
        let k = k.as_str().expect("field");
        let class = |c: &str| p.classes.iter().find(|x| x.class == c);
        let counter = |c: &str| p.counters.iter().find(|x| x.counter == c);
        let got: serde_json::Value = if let Some(c) = k.strip_prefix("class:") {
            class(c).map_or(serde_json::Value::Null, |x| x.rate.into())
        } else if let Some(c) = k.strip_prefix("total:") {
            class(c).map_or(serde_json::Value::Null, |x| x.total.into())
        } else if let Some(c) = k.strip_prefix("counter:") {
            counter(c).map_or(serde_json::Value::Null, |x| x.rate.into())
        } else if let Some(c) = k.strip_prefix("class_of:") {
            counter(c).map_or(serde_json::Value::Null, |x| x.class.clone().into())
        } else {
            json.get(k).cloned().unwrap_or(serde_json::Value::Null)
        };
        let ok = if let (Some(w), Some(g)) = (want.as_f64(), got.as_f64()) {
            close(g, w)
        } else {
            serde_json::to_value(want).expect("json") == got
        };
        if !ok {
            errs.push(format!(
                "{name}: view {vname}: rdma {key}.{k} = {got}, want {want:?}"
            ));
        }
    }
    errs
}

#[test]
fn scenarios_give_the_expected_rates_bursts_and_alerts() {
    let mut errs = Vec::new();
    for path in fixtures() {
        let text = std::fs::read_to_string(&path).expect("read scenario");
        let doc: Value = yaml_serde::from_str(&text).expect("scenario YAML");
        let built = build(&doc);
        let (views, all) = run(&built, &built.samples);
        errs.extend(check(&path, &doc, &views, &all));
    }
    assert!(errs.is_empty(), "{}", errs.join("\n"));
}

#[test]
fn scenarios_survive_the_recording_format() {
    let dir = tempfile::tempdir().expect("tempdir");
    for path in fixtures() {
        let text = std::fs::read_to_string(&path).expect("read scenario");
        let doc: Value = yaml_serde::from_str(&text).expect("scenario YAML");
        let built = build(&doc);
        let file = dir.path().join("s.rec");
        let mut r = Recorder::create(&file, &Header::new("test", &[], 0, 1_000_000))
            .expect("create recording");
        for s in &built.samples {
            r.write(s).expect("write");
        }
        r.flush().expect("flush");
        drop(r);
        let back: Vec<Sample> = Reader::open(&file)
            .expect("open recording")
            .map(|s| s.expect("sample"))
            .collect();
        assert_eq!(back, built.samples, "{}", path.display());
        let (views, all) = run(&built, &back);
        let errs = check(&path, &doc, &views, &all);
        assert!(errs.is_empty(), "{}", errs.join("\n"));
    }
}

#[test]
fn the_checker_catches_a_wrong_expectation() {
    // A scenario whose expectation is wrong must fail: the harness cannot pass vacuously.
    let doc: Value = yaml_serde::from_str(
        "ifaces: {eth0: {ifindex: 2}}\ntimeline:\n  - for: 10ms\n    add: {eth0: {rx_bytes: 1000}}\n  - view: v\nexpect:\n  views: {v: {eth0: {rx_bps: 1}}}\n  bursts: [{iface: eth0, dir: rx}]\n",
    )
    .expect("yaml");
    let built = build(&doc);
    let (views, all) = run(&built, &built.samples);
    let errs = check(Path::new("wrong.yaml"), &doc, &views, &all);
    assert_eq!(errs.len(), 2, "{errs:?}");
    // And Counters round-trip: nothing else is compared by accident.
    assert_eq!(Counters::default(), counters_from_array(&[0; N_COUNTERS]));
}
