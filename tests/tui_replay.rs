//! The screens on a recording replayed through the monitor engine, as `watch --replay` runs
//! them: a scenario written here with the recorder (two NICs at 1 ms samples for 3 s; eth2 at
//! 25 Gbit/s carries five 4 ms bursts at 90% of the line with FIFO overflows inside them and
//! an mlx5 driver, eth3 is quiet and vanishes after 2 s), played tick by tick with a 250 ms
//! refresh. Checks what the screen says against what the scenario put in, and snapshots the
//! frames (committed in `tests/snapshots/`).

use std::sync::Arc;

use dpuctl::model::Counters;
use dpuctl::monitor::engine::{Engine, EngineConfig};
use dpuctl::monitor::record::{Header, Reader, Recorder};
use dpuctl::monitor::sample::{DriverStats, IfaceSample, SlowIface};
use dpuctl::monitor::Sample;
use dpuctl::tui::app::App;
use dpuctl::tui::event::Event;
use dpuctl::tui::sources::{scan, ReplayFeed};
use dpuctl::tui::ui;
use ratatui::backend::TestBackend;
use ratatui::Terminal;

const MS: u64 = 1_000_000;
/// 2026-11-23 12:00:00 UTC.
const WALL0: u64 = 1_795_435_200_000;
/// 25 Gbit/s in bytes per ms.
const LINE_BYTES_PER_MS: u64 = 25_000_000_000 / 8 / 1000;
const BURSTS: u64 = 5;
const BURST_MS: u64 = 4;
const FIFO_PER_BURST_MS: u64 = 100;

/// Writes the scenario recording; returns its path (inside `dir`).
fn record(dir: &std::path::Path) -> std::path::PathBuf {
    let path = dir.join("scenario.rec");
    let header = Header::new("node7", &[], WALL0, MS);
    let mut rec = Recorder::create(&path, &header).expect("create recording");
    let names: Arc<[String]> = vec![
        "rx_out_of_buffer".to_string(),
        "rx_vport_unicast_packets".to_string(),
    ]
    .into();
    let (mut a, mut b) = (Counters::default(), Counters::default());
    let mut oob = 0u64;
    for ms in 0..=3000u64 {
        // Bursts start at 300, 800, 1300, 1800, 2300 ms.
        let in_burst = (0..BURSTS).any(|k| {
            let s = 300 + k * 500;
            ms > s && ms <= s + BURST_MS
        });
        let bytes = if in_burst {
            LINE_BYTES_PER_MS * 9 / 10
        } else {
            LINE_BYTES_PER_MS / 20
        };
        a.rx_bytes += bytes;
        a.rx_packets += bytes / 1500;
        a.tx_bytes += 1_000;
        a.tx_packets += 10;
        if in_burst {
            a.rx_fifo_errors += FIFO_PER_BURST_MS;
            oob += FIFO_PER_BURST_MS;
        }
        b.rx_bytes += 100;
        b.rx_packets += 1;
        let slow = ms % 250 == 0;
        let mut ifaces = vec![IfaceSample {
            ifindex: 4,
            name: Arc::from("eth2"),
            up: true,
            speed_mbps: Some(25_000),
            counters: a,
            slow: slow.then(|| {
                Box::new(SlowIface {
                    driver: Some("mlx5_core".into()),
                    driver_stats: Some(DriverStats {
                        names: names.clone(),
                        values: vec![oob, a.rx_packets],
                    }),
                    ..SlowIface::default()
                })
            }),
        }];
        if ms < 2000 {
            ifaces.push(IfaceSample {
                ifindex: 5,
                name: Arc::from("eth3"),
                up: true,
                speed_mbps: Some(25_000),
                counters: b,
                slow: None,
            });
        }
        rec.write(&Sample {
            t_ns: 5_000 * MS + ms * MS,
            wall_ms: WALL0 + ms,
            ifaces,
            softnet: None,
            sockets: None,
            node: None,
            flows: Vec::new(),
            rdma: Vec::new(),
        })
        .expect("write sample");
    }
    rec.flush().expect("flush");
    path
}

fn replay(path: &std::path::Path) -> App<ReplayFeed<std::io::BufReader<std::fs::File>>> {
    let extent = scan(path).expect("scan");
    assert_eq!(extent.samples, 3001);
    let feed = ReplayFeed::new(
        Engine::new(EngineConfig::default()),
        Reader::open(path).expect("open"),
        extent,
        250 * MS,
        "scenario.rec".into(),
    )
    .expect("replay");
    App::new(feed)
}

fn frame<F: dpuctl::tui::feed::Feed>(app: &App<F>, w: u16, h: u16) -> String {
    let mut t = Terminal::new(TestBackend::new(w, h)).expect("test terminal");
    t.draw(|f| ui::draw(f, app.state())).expect("draw");
    t.backend().to_string()
}

#[test]
fn a_recording_replays_to_the_end_with_its_bursts_and_alerts() {
    let dir = tempfile::tempdir().expect("tmp");
    let path = record(dir.path());
    let mut app = replay(&path);
    let mut ticks = 0;
    while !app.state().finished {
        app.update(Event::Tick);
        ticks += 1;
        assert!(ticks < 100, "the replay never finished");
        if ticks == 4 {
            // 1.0 s in: eth2 and eth3 listed, the bursts at 300 and 800 ms so far.
            let s = app.state();
            assert_eq!(s.view.ifaces.len(), 2);
            assert_eq!(s.view.ifaces[0].rx_bursts.count, 2);
            assert!(s.source.contains("1.0/3.0 s"), "{}", s.source);
            insta::assert_snapshot!("replay_1s_80x24", frame(&app, 80, 24));
        }
    }
    // 3 s at 250 ms per tick.
    assert_eq!(ticks, 12);
    let s = app.state();
    let eth2 = &s.view.ifaces[0];
    assert_eq!(eth2.name, "eth2");
    assert_eq!(eth2.rx_bursts.count, BURSTS);
    assert_eq!(eth2.rx_bursts.longest_ns, BURST_MS * MS);
    assert_eq!(
        eth2.rx_bursts.drops,
        Some(BURSTS * BURST_MS * FIFO_PER_BURST_MS)
    );
    assert_eq!(eth2.tx_bursts.count, 0);
    let eth3 = &s.view.ifaces[1];
    assert!(!eth3.present, "eth3 vanished at 2 s");
    assert!(
        s.view
            .alerts
            .iter()
            .any(|a| a.iface == "eth2" && a.metric == "rx_fifo_errors"),
        "{:?}",
        s.view.alerts
    );
    let overview = frame(&app, 120, 40);
    assert!(overview.contains("replay finished"), "{overview}");
    assert!(overview.contains("eth3 gone"), "{overview}");
    insta::assert_snapshot!("replay_end_120x40", overview);
    insta::assert_snapshot!("replay_end_80x24", frame(&app, 80, 24));
    // Zoom into eth2: the driver counters by class.
    app.update(Event::Key(crossterm::event::KeyEvent::from(
        crossterm::event::KeyCode::Enter,
    )));
    let zoom = frame(&app, 120, 40);
    assert!(zoom.contains("rx_out_of_buffer"), "{zoom}");
    insta::assert_snapshot!("replay_end_zoom_120x40", zoom);
    // The screen stays after the end: more ticks change nothing.
    let before = app.state().clone();
    assert!(!app.update(Event::Tick));
    assert_eq!(app.state(), &before);
}

#[test]
fn pause_stops_the_recording_clock() {
    let dir = tempfile::tempdir().expect("tmp");
    let path = record(dir.path());
    let mut app = replay(&path);
    app.update(Event::Tick);
    app.update(Event::Key(crossterm::event::KeyEvent::from(
        crossterm::event::KeyCode::Char(' '),
    )));
    let at = app.state().source.clone();
    for _ in 0..20 {
        app.update(Event::Tick);
    }
    assert_eq!(app.state().source, at, "the clock moved while paused");
    assert!(!app.state().finished);
    app.update(Event::Key(crossterm::event::KeyEvent::from(
        crossterm::event::KeyCode::Char(' '),
    )));
    app.update(Event::Tick);
    assert!(
        app.state().source.contains("0.5/3.0 s"),
        "{}",
        app.state().source
    );
}

/// `watch --replay` of a recording with RDMA counters (`tests/fixtures/monitor/
/// rdma_retransmits.rec`: `mlx5_0` port 1 on eth2 retransmitting 120/s, timing out 30/s, 10
/// sequence errors/s): the zoom of eth2 shows the port's counters with their class.
#[test]
fn a_recording_with_rdma_counters_shows_them_in_the_zoom() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/monitor/rdma_retransmits.rec");
    let extent = scan(&path).expect("scan");
    let feed = ReplayFeed::new(
        Engine::new(EngineConfig::default()),
        Reader::open(&path).expect("open"),
        extent,
        1000 * MS,
        "rdma_retransmits.rec".into(),
    )
    .expect("replay");
    let mut app = App::new(feed);
    let mut ticks = 0;
    while !app.state().finished {
        app.update(Event::Tick);
        ticks += 1;
        assert!(ticks < 20, "the replay never finished");
    }
    let p = &app.state().view.rdma;
    assert_eq!(p.len(), 1, "{p:?}");
    assert_eq!(p[0].netdev.as_deref(), Some("eth2"));
    app.update(Event::Key(crossterm::event::KeyEvent::from(
        crossterm::event::KeyCode::Enter,
    )));
    let zoom = frame(&app, 120, 40);
    assert!(zoom.contains("RDMA mlx5_0/1 loss 160/s"), "{zoom}");
    for c in [
        "roce_adp_retrans",
        "local_ack_timeout_err",
        "out_of_sequence",
    ] {
        assert!(zoom.contains(c), "{c}: {zoom}");
    }
}
