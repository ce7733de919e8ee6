//! Frames of the `watch` screens as users see them, rendered on ratatui's test backend at
//! 80x24 (the smallest supported terminal) and 120x40, from views built here. The snapshots
//! are committed in `tests/snapshots/`; a rendering change fails these tests until the new
//! frames are reviewed and committed (`INSTA_UPDATE=always` rewrites them).

use dpuctl::monitor::microburst::{Burst, BurstSummary};
use dpuctl::monitor::view::DirBurst;
use dpuctl::monitor::{
    Alert, ClassRate, IfaceRates, IfaceView, QueueView, RatePoint, SocketRates, TempView, View,
};
use dpuctl::tui::app::{Mode, SortKey, State};
use dpuctl::tui::ui;
use ratatui::backend::TestBackend;
use ratatui::Terminal;

/// 2026-11-23 12:00:00 UTC.
const WALL0: u64 = 1_795_435_200_000;

fn burst(start_ms: u64, dur_us: u64, peak: f64, drops: u64) -> Burst {
    Burst {
        start_ns: start_ms * 1_000_000,
        duration_ns: dur_us * 1_000,
        bytes: dur_us * 12_500 / 10,
        packets: dur_us,
        peak_util: peak,
        mean_util: peak * 0.8,
        intervals: (dur_us / 1_000).max(1) as u32,
        drops: Some(drops),
    }
}

fn history(n: u64, f: impl Fn(u64) -> (f64, f64, f64)) -> Vec<RatePoint> {
    (0..n)
        .map(|k| {
            let (rx, tx, d) = f(k);
            RatePoint {
                t_ns: k * 250_000_000,
                rx_bps: rx,
                tx_bps: tx,
                drops: d,
            }
        })
        .collect()
}

fn class(class: &str, counter: &str, rate: f64, total: u64) -> ClassRate {
    ClassRate {
        class: class.into(),
        counter: counter.into(),
        rate,
        total,
    }
}

/// A busy 100G NIC dropping in bursts.
fn mlx() -> IfaceView {
    let rx = [
        burst(1_000, 40, 0.93, 0),
        burst(2_000, 850, 0.99, 120),
        burst(3_000, 8, 0.71, 0),
        burst(4_000, 2_400, 1.0, 800),
    ];
    let tx = [burst(1_500, 60, 0.64, 0)];
    let mut queues = Vec::new();
    for q in 0..4 {
        queues.push(QueueView {
            dir: "rx".into(),
            index: q,
            pps: Some(1_200_000.0 + f64::from(q) * 10_000.0),
            bps: Some(9.6e9 + f64::from(q) * 1e8),
            drops: Some(if q == 2 { 310.0 } else { 0.0 }),
            tx_timeout: None,
            na: None,
        });
    }
    for q in 0..4 {
        queues.push(QueueView {
            dir: "tx".into(),
            index: q,
            pps: Some(400_000.0),
            bps: Some(3.2e9),
            drops: Some(0.0),
            tx_timeout: Some(u64::from(q == 3)),
            na: None,
        });
    }
    IfaceView {
        name: "eth2".into(),
        ifindex: 4,
        present: true,
        up: true,
        line_rate_bps: Some(100_000_000_000),
        rates: IfaceRates {
            rx_bps: 38.8e9,
            tx_bps: 12.8e9,
            rx_pps: 4.84e6,
            tx_pps: 1.6e6,
            rx_missed: 0.0,
            rx_fifo: 0.0,
            rx_crc: 0.0,
            rx_dropped: 310.0,
            rx_over: 0.0,
            tx_dropped: 0.0,
            tx_timeout: 0.0,
            rx_util: Some(0.388),
            tx_util: Some(0.128),
            ..IfaceRates::default()
        },
        classes: vec![
            class("buffer_exhaustion", "rx_out_of_buffer", 310.0, 98_231),
            class("pause", "rx_pause_ctrl_phy", 0.0, 12),
            class("crc", "rx_crc_errors_phy", 0.0, 0),
            class("fifo_overflow", "rx_fifo_errors", 0.0, 3),
        ],
        raw: vec![class("raw", "rx_steer_missed_packets", 4.0, 511)],
        queues,
        history: history(40, |k| {
            let hot = k % 10 == 7;
            (
                if hot { 95e9 } else { 30e9 + (k as f64) * 2e8 },
                12e9,
                if hot { 800.0 } else { 0.0 },
            )
        }),
        rx_bursts: BurstSummary::of(BurstSummary::default(), &rx),
        tx_bursts: BurstSummary::of(BurstSummary::default(), &tx),
        recent_bursts: rx
            .iter()
            .map(|b| DirBurst {
                dir: "rx".into(),
                burst: b.clone(),
                // The estimate is finer than whole intervals: 90% of the counted length.
                duration_est_ns: b.duration_ns / 10 * 9,
                top_flows: Vec::new(),
            })
            .collect(),
        temps: vec![TempView {
            label: "asic".into(),
            celsius: 97.0,
            crit: Some(105.0),
        }],
        driver: Some("mlx5_core".into()),
        counter_resets: 1,
        ..IfaceView::default()
    }
}

fn quiet(name: &str, ifindex: u32, bps: f64) -> IfaceView {
    IfaceView {
        name: name.into(),
        ifindex,
        present: true,
        up: true,
        line_rate_bps: Some(25_000_000_000),
        rates: IfaceRates {
            rx_bps: bps,
            tx_bps: bps / 2.0,
            rx_pps: bps / 8000.0,
            tx_pps: bps / 16000.0,
            rx_util: Some(bps / 25e9),
            tx_util: Some(bps / 50e9),
            ..IfaceRates::default()
        },
        history: history(40, |_| (bps, bps / 2.0, 0.0)),
        temps: vec![TempView {
            label: "asic".into(),
            celsius: 58.0,
            crit: Some(105.0),
        }],
        ..IfaceView::default()
    }
}

/// A veth without a line rate (utilization n/a) that crc-errors, and one that vanished.
fn node() -> View {
    let mut crc = quiet("eth3", 5, 2.1e9);
    crc.rates.rx_crc = 3.0;
    crc.rates.tx_timeout = 0.25;
    let mut veth = quiet("veth-a", 9, 950e3);
    veth.line_rate_bps = None;
    veth.rates.rx_util = None;
    veth.rates.tx_util = None;
    veth.temps.clear();
    veth.driver = Some("veth".into());
    veth.driver_stats_na = Some("the driver has no private counters".into());
    let mut gone = quiet("veth-old", 7, 0.0);
    gone.present = false;
    gone.up = false;
    gone.temps.clear();
    View {
        t_ns: 10_000_000_000,
        wall_ms: WALL0 + 10_000,
        ifaces: vec![quiet("eth0", 2, 120e6), mlx(), crc, gone, veth],
        softnet_dropped: 12.0,
        softnet_squeezed: 340.0,
        alerts: vec![
            Alert {
                t_ns: 4_000_000_000,
                wall_ms: WALL0 + 4_000,
                iface: "eth3".into(),
                metric: "rx_crc_errors".into(),
                value: 3.0,
                limit: 0.0,
                message: "CRC errors: check the cable or optic".into(),
            },
            Alert {
                t_ns: 7_250_000_000,
                wall_ms: WALL0 + 7_250,
                iface: "eth2".into(),
                metric: "temperature".into(),
                value: 97.0,
                limit: 95.0,
                message: "NIC asic within 10 C of critical (105 C)".into(),
            },
        ],
        samples: 10_000,
        missed_deadlines: 3,
        ..View::default()
    }
}

fn state(mode: Mode) -> State {
    State {
        view: node(),
        source: "live, sample 1ms, refresh 250ms".into(),
        selected: Some("eth2".into()),
        mode,
        ..State::default()
    }
}

fn frame(s: &State, w: u16, h: u16) -> String {
    let mut t = Terminal::new(TestBackend::new(w, h)).expect("test terminal");
    t.draw(|f| ui::draw(f, s)).expect("draw");
    t.backend().to_string()
}

#[test]
fn overview_80x24() {
    insta::assert_snapshot!(frame(&state(Mode::Overview), 80, 24));
}

#[test]
fn overview_120x40() {
    insta::assert_snapshot!(frame(&state(Mode::Overview), 120, 40));
}

#[test]
fn zoom_80x24() {
    insta::assert_snapshot!(frame(&state(Mode::Zoom("eth2".into())), 80, 24));
}

#[test]
fn zoom_120x40() {
    insta::assert_snapshot!(frame(&state(Mode::Zoom("eth2".into())), 120, 40));
}

/// An ets root with five bands, band 2 dropping with a backlog: the bands table sits above
/// the driver counters, the dropping band first.
#[test]
fn zoom_with_qdisc_bands_120x40() {
    use dpuctl::monitor::bands::BandView;
    let mut s = state(Mode::Zoom("eth2".into()));
    let i = s
        .view
        .ifaces
        .iter_mut()
        .find(|i| i.name == "eth2")
        .expect("eth2");
    i.bands = (0..5u32)
        .map(|b| BandView {
            class: format!("1:{}", b + 1),
            kind: "ets".into(),
            band: Some(b),
            bps: 2e9 * f64::from(5 - b),
            pps: 170_000.0 * f64::from(5 - b),
            drops: if b == 2 { 1_250.0 } else { 0.0 },
            requeues: 0.0,
            overlimits: 0.0,
            backlog_bytes: if b == 2 { 1_480_000 } else { 0 },
            backlog_packets: if b == 2 { 1_000 } else { 0 },
            drops_total: 0,
        })
        .collect();
    let f = frame(&s, 120, 40);
    assert!(f.contains("eth2 ets bands (5, 1 dropping)"), "{f}");
    insta::assert_snapshot!(f);
}

#[test]
fn help_80x24() {
    let s = State {
        help: true,
        ..state(Mode::Overview)
    };
    insta::assert_snapshot!(frame(&s, 80, 24));
}

#[test]
fn sorted_filtered_paused_80x24() {
    let s = State {
        sort: SortKey::RxBps,
        filter: "eth".into(),
        editing_filter: true,
        paused: true,
        ..state(Mode::Overview)
    };
    insta::assert_snapshot!(frame(&s, 80, 24));
}

#[test]
fn a_saved_history_is_told_in_the_footer_80x24() {
    let s = State {
        note: Some(
            "saved the last 120 s to ./dpuctl-node7-20261123-120010.rec (for --replay)".into(),
        ),
        ..state(Mode::Overview)
    };
    let f = frame(&s, 80, 24);
    let footer = f.lines().last().unwrap_or_default().to_string();
    assert!(
        footer.contains("dpuctl-node7-20261123-120010.rec"),
        "{footer}"
    );
    assert!(
        !footer.contains("? help"),
        "the note replaces the keys: {footer}"
    );
}

#[test]
fn replay_finished_with_sampler_error_120x40() {
    let s = State {
        finished: true,
        error: Some("failed to read counters: netlink socket closed".into()),
        source: "replay incident.rec 60.0/60.0 s".into(),
        ..state(Mode::Overview)
    };
    insta::assert_snapshot!(frame(&s, 120, 40));
}

#[test]
fn veth_queues_say_na_with_the_reason_120x40() {
    let mut s = state(Mode::Zoom("veth-a".into()));
    let v = s
        .view
        .ifaces
        .iter_mut()
        .find(|i| i.name == "veth-a")
        .expect("veth-a");
    v.driver_stats_na = None;
    v.queues = (0..2)
        .map(|index| QueueView {
            dir: "rx".into(),
            index,
            na: Some(
                "veth counts per queue only what passes its NAPI/XDP path (an XDP program or \
                 GRO on); this traffic did not: see the interface rates"
                    .into(),
            ),
            ..QueueView::default()
        })
        .collect();
    let f = frame(&s, 120, 40);
    assert!(
        f.contains("rx queues (2) n/a: veth counts per queue"),
        "{f}"
    );
    insta::assert_snapshot!(f);
}

/// The first line of a frame.
fn header(frame: &str) -> String {
    frame.lines().next().unwrap_or_default().to_string()
}

#[test]
fn socket_drops_lead_the_header_80x24_and_120x40() {
    let mut s = state(Mode::Overview);
    s.view.sockets = Some(SocketRates {
        udp_rcvbuf_errors: 2_600.0,
        udp_in_errors: 2_600.0,
        tcp_backlog_drop: 3.0,
        tcp_listen_drops: 1.0,
        tcp_listen_overflows: 1.0,
    });
    let narrow = frame(&s, 80, 24);
    assert!(header(&narrow).contains("udp drop 2.60k/s"), "{narrow}");
    insta::assert_snapshot!("socket_drops_80x24", header(&narrow));
    let wide = header(&frame(&s, 120, 40));
    assert!(
        wide.contains("udp drop 2.60k/s tcp drop 4/s sort:"),
        "{wide}"
    );
    insta::assert_snapshot!("socket_drops_120x40", wide);
    // Quiet sockets take no room on ordinary terminals...
    s.view.sockets = Some(SocketRates::default());
    let quiet = header(&frame(&s, 120, 40));
    assert!(
        !quiet.contains("drop 0") && !quiet.contains("sockets"),
        "{quiet}"
    );
    assert_eq!(quiet, header(&frame(&state(Mode::Overview), 120, 40)));
    // ...and show on wide ones.
    assert!(header(&frame(&s, 160, 40)).contains("sockets 0 drop/s"));
}

#[test]
fn before_the_first_view_and_tiny_terminals() {
    let empty = State::default();
    insta::assert_snapshot!("waiting_80x24", frame(&empty, 80, 24));
    // Smaller than supported: still a frame (the table only), never a panic.
    insta::assert_snapshot!("tiny_40x10", frame(&state(Mode::Overview), 40, 10));
    let _ = frame(&state(Mode::Zoom("eth2".into())), 20, 5);
    let _ = frame(
        &State {
            help: true,
            ..state(Mode::Overview)
        },
        10,
        3,
    );
}

#[test]
fn a_long_table_scrolls_to_the_selection_80x24() {
    let ifaces: Vec<IfaceView> = (0..40)
        .map(|k| quiet(&format!("ens{k}"), k + 2, 1e6 * f64::from(k)))
        .collect();
    let s = State {
        view: View {
            ifaces,
            ..View::default()
        },
        source: "live, sample 1ms, refresh 250ms".into(),
        selected: Some("ens33".into()),
        ..State::default()
    };
    let f = frame(&s, 80, 24);
    assert!(
        f.contains("│ens33 "),
        "the selected row is off screen:\n{f}"
    );
    assert!(f.contains("interfaces (40)"), "{f}");
    insta::assert_snapshot!(f);
}

/// The temperatures panel shows the pluggable module: its temperature and the weakest
/// receive lane against the module's own low warning.
#[test]
fn the_module_shows_its_temperature_and_weakest_rx_lane_120x40() {
    let mut s = state(Mode::Zoom("eth2".into()));
    let eth2 = s
        .view
        .ifaces
        .iter_mut()
        .find(|i| i.name == "eth2")
        .expect("eth2");
    eth2.module = Some(dpuctl::model::module::ModuleReading {
        temperature_c: Some(41.0),
        temperature_high_warning_c: Some(70.0),
        rx_power_low_warning_dbm: Some(-10.4),
        tx_power_low_warning_dbm: Some(-7.4),
        lanes: (1..=8)
            .map(|lane| dpuctl::model::module::LaneReading {
                lane,
                rx_power_dbm: Some(if lane == 6 { -10.9 } else { -1.5 }),
                tx_power_dbm: Some(-3.0),
            })
            .collect(),
    });
    let f = frame(&s, 120, 40);
    assert!(f.contains("eth2 module 41C"), "{f}");
    assert!(f.contains("eth2 rx lane 6 -10.9dBm warn -10.4"), "{f}");
    // Without a module, neither line.
    let f = frame(&state(Mode::Zoom("eth2".into())), 120, 40);
    assert!(!f.contains("eth2 module"), "{f}");
}

#[test]
fn bursts_of_the_bpf_source_name_their_top_flow_120x60() {
    use dpuctl::monitor::sample::TopFlow;
    let mut s = state(Mode::Overview);
    let v = s
        .view
        .ifaces
        .iter_mut()
        .find(|i| i.name == "eth2")
        .expect("eth2");
    for (k, d) in v.recent_bursts.iter_mut().enumerate() {
        d.top_flows = vec![TopFlow {
            src: "10.0.0.1".parse().expect("ip"),
            dst: "10.0.0.2".parse().expect("ip"),
            sport: 40_000 + k as u16,
            dport: 4791,
            proto: 17,
            bytes: d.burst.bytes * 9 / 10,
        }];
    }
    let f = frame(&s, 120, 60);
    assert!(f.contains("udp 10.0.0.1:40000>10.0.0.2:4791"), "{f}");
    insta::assert_snapshot!(f);
}

/// The zoom of an interface with an RDMA port on it (`mlx5_0/1` on eth2) shows the port's
/// hardware counters with their class below the driver counters, the retransmits red and the
/// loss rate in the title; other interfaces' zooms do not.
#[test]
fn zoom_shows_the_rdma_port_on_the_interface_120x40() {
    use dpuctl::monitor::view::{RdmaClassRate, RdmaPortView};
    let mut s = state(Mode::Zoom("eth2".into()));
    let cr = |c: &str, rate, total| RdmaClassRate {
        class: c.into(),
        rate,
        total,
    };
    s.view.rdma = vec![RdmaPortView {
        device: "mlx5_0".into(),
        port: 1,
        netdev: Some("eth2".into()),
        driver: "mlx5_core".into(),
        present: true,
        classes: vec![
            cr("retransmits", 120.0, 5_400),
            cr("timeouts", 30.0, 1_030),
            cr("cnp_sent", 0.0, 0),
        ],
        counters: vec![
            class("retransmits", "roce_adp_retrans", 120.0, 5_400),
            class("timeouts", "local_ack_timeout_err", 30.0, 1_030),
            class("cnp_sent", "np_cnp_sent", 0.0, 0),
            class("raw", "rx_write_requests", 2_000.0, 90_000),
        ],
    }];
    let f = frame(&s, 120, 40);
    assert!(f.contains("RDMA mlx5_0/1 loss 150/s"), "{f}");
    assert!(f.contains("roce_adp_retrans"), "{f}");
    insta::assert_snapshot!(f);
    s.mode = Mode::Zoom("eth0".into());
    let f = frame(&s, 120, 40);
    assert!(!f.contains("RDMA"), "{f}");
}
