//! End-to-end tests of the `zmtp` command-line tool: the built binary is
//! spawned, its JSON lines parsed. Loopback only, ports chosen by the
//! system, every wait bounded.
#![allow(missing_docs)]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

#[path = "common/tool.rs"]
mod tool;

use core::time::Duration;
use std::io::{BufRead as _, BufReader};
use std::process::{Command, Stdio};
use std::time::Instant;

use serde_json::{Value, json};
use tool::*;

// ---------------------------------------------------------------------
// Usage
// ---------------------------------------------------------------------

#[test]
fn help_documents_the_interface() {
    let exit = Command::new(env!("CARGO_BIN_EXE_zmtp"))
        .arg("--help")
        .output()
        .unwrap();
    assert_eq!(exit.status.code(), Some(0));
    let help = String::from_utf8(exit.stdout).unwrap();
    assert!(help.contains("zmtp <TYPE> [OPTIONS]"), "{help}");
    for word in [
        "pair dealer router req rep pub sub xpub xsub push pull",
        "--bind",
        "--connect",
        "--monitor",
        "--send",
        "--echo",
        "--recv",
        "--timeout",
        "--subscribe",
        "--routing-id",
        "--linger",
        "--sndhwm",
        "--rcvhwm",
        "--maxmsgsize",
        "--reconnect-ivl",
        "--reconnect-ivl-max",
        "--handshake-ivl",
        "--heartbeat-ivl",
        "--heartbeat-timeout",
        "--heartbeat-ttl",
        "{\"sent\":N}",
        "{\"hex\":",
        "MONITOR_STOPPED",
        "EXIT STATUS",
        "REQ",
        "ROUTER",
    ] {
        assert!(help.contains(word), "--help lacks {word}");
    }
}

#[test]
fn usage_errors_exit_2() {
    let ep = "tcp://127.0.0.1:1";
    for (args, says) in [
        (&["stream", "--connect", ep][..], "unknown socket type"),
        (&[], "<TYPE>"),
        (&["req", "--connect", ep, "--timeout", "soon"], "--timeout"),
        (&["req", "--connect", ep, "--recv", "0"], "--recv"),
        (&["req", "--connect", ep, "--linger", "-2"], "--linger"),
        (&["req", "--connect", ep, "--sndhwm", "-1"], "'-1'"),
        (
            &["req", "--connect", ep, "--heartbeat-ttl", "7000000"],
            "ttl",
        ),
        (&["req", "--connect", ep, "--routing-id", ""], "routing id"),
        (
            &["req", "--connect", ep, "--metadata", "key:v"],
            "--metadata",
        ),
        (
            &["req", "--connect", ep, "--metadata", "X-key:"],
            "--metadata",
        ),
        (&["req", "--connect", ep, "--frobnicate"], "--frobnicate"),
        (&["req"], "--bind or --connect"),
        (&["sub", "--connect", ep, "--send", "x"], "cannot send"),
        (&["pull", "--connect", ep, "--send", "x"], "cannot send"),
        (&["push", "--connect", ep, "--recv", "1"], "cannot receive"),
        (&["pub", "--connect", ep, "--echo"], "--echo"),
        (&["push", "--connect", ep, "--subscribe", ""], "--subscribe"),
        (&["req", "--connect", "foo://x"], "foo://x"),
        (&["req", "--connect", "tcp://127.0.0.1"], "tcp://127.0.0.1"),
        (
            &["rep", "--bind", "tcp://127.0.0.1:0", "--bind", "bogus"],
            "bogus",
        ),
    ] {
        let exit = run(args);
        assert_eq!(exit.code, Some(2), "{args:?}: {exit:?}");
        assert!(exit.stderr.contains(says), "{args:?}: {}", exit.stderr);
        assert!(data(&exit.lines).iter().all(|v| v.get("bound").is_some()));
    }
}

// ---------------------------------------------------------------------
// Two zmtp processes
// ---------------------------------------------------------------------

#[test]
fn rep_echo_answers_req_send() {
    let mut rep = zmtp(&[
        "REP",
        "--bind",
        "tcp://127.0.0.1:0",
        "--echo",
        "--recv",
        "2",
        "--monitor",
        "--timeout",
        CHILD_TIMEOUT,
    ]);
    let ep = rep.bound();
    assert!(
        ep.starts_with("tcp://127.0.0.1:") && !ep.ends_with(":0"),
        "{ep}"
    );
    let req = run(&[
        "req",
        "--connect",
        &ep,
        "--send",
        "hello",
        "--send",
        "wo\"r\\ld\n",
        "--recv",
        "2",
        "--monitor",
        "--timeout",
        CHILD_TIMEOUT,
    ]);
    assert_eq!(req.code, Some(0), "{req:?}");
    assert_eq!(
        data(&req.lines),
        [
            json!({"sent": 1}),
            json!({"recv": ["hello"]}),
            json!({"sent": 2}),
            json!({"recv": ["wo\"r\\ld\n"]}),
        ]
    );
    let names = events(&req.lines);
    let start = usize::from(names[0] == "CONNECT_DELAYED");
    assert_eq!(
        names[start..start + 2],
        ["CONNECTED", "HANDSHAKE_SUCCEEDED"]
    );
    assert_eq!(event(&req.lines, "CONNECTED")["endpoint"], ep.as_str());
    assert_eq!(event(&req.lines, "CONNECTED")["id"], 1);
    assert_monitor_ends(&req);

    let rep = rep.finish();
    assert_eq!(rep.code, Some(0), "{rep:?}");
    assert_eq!(
        data(&rep.lines),
        [
            json!({"bound": ep}),
            json!({"recv": ["hello"]}),
            json!({"sent": 1}),
            json!({"recv": ["wo\"r\\ld\n"]}),
            json!({"sent": 2}),
        ]
    );
    let names = events(&rep.lines);
    assert_eq!(names[..3], ["LISTENING", "ACCEPTED", "HANDSHAKE_SUCCEEDED"]);
    let listening = event(&rep.lines, "LISTENING");
    assert_eq!(listening["endpoint"], ep.as_str());
    assert_eq!(listening["id"], 8);
    // Closing stops the listener: CLOSED with its fd, then MONITOR_STOPPED.
    let closed = rep
        .lines
        .iter()
        .rfind(|v| v["event"] == "CLOSED")
        .expect("CLOSED");
    assert_eq!(closed["value"], listening["value"]);
    assert_monitor_ends(&rep);
}

#[test]
fn sub_receives_only_its_prefix_from_pub() {
    let mut sub = zmtp(&[
        "sub",
        "--bind",
        "tcp://127.0.0.1:0",
        "--subscribe",
        "a",
        "--recv",
        "2",
        "--timeout",
        CHILD_TIMEOUT,
    ]);
    let ep = sub.bound();
    let publisher = run(&[
        "pub",
        "--connect",
        &ep,
        "--send",
        "b-not-for-you",
        "--send",
        "a1",
        "--send",
        "",
        "--send",
        "ab",
        "--timeout",
        CHILD_TIMEOUT,
    ]);
    assert_eq!(publisher.code, Some(0), "{publisher:?}");
    let sent: Vec<Value> = (1..=4).map(|n| json!({"sent": n})).collect();
    assert_eq!(publisher.lines, sent);
    let sub = sub.finish();
    assert_eq!(sub.code, Some(0), "{sub:?}");
    assert_eq!(
        data(&sub.lines),
        [
            json!({"bound": ep}),
            json!({"recv": ["a1"]}),
            json!({"recv": ["ab"]}),
        ]
    );
}

#[test]
fn push_to_pull_over_ipc_with_several_binds() {
    let dir = std::env::temp_dir();
    let path = dir.join(format!("zmtp-cli-{}.sock", std::process::id()));
    let ipc = format!("ipc://{}", path.display());
    let mut pull = zmtp(&[
        "pull",
        "--bind",
        "tcp://127.0.0.1:0",
        "--bind",
        &ipc,
        "--recv",
        "3",
        "--timeout",
        CHILD_TIMEOUT,
    ]);
    let tcp = pull.bound();
    assert!(tcp.starts_with("tcp://"));
    assert_eq!(pull.bound(), ipc);
    let push = run(&[
        "push",
        "--connect",
        &ipc,
        "--send",
        "1",
        "--send=-2",
        "--send",
        "three",
        "--timeout",
        CHILD_TIMEOUT,
    ]);
    assert_eq!(push.code, Some(0), "{push:?}");
    let pull = pull.finish();
    assert_eq!(pull.code, Some(0), "{pull:?}");
    let got: Vec<Vec<Vec<u8>>> = data(&pull.lines)
        .iter()
        .filter(|v| v.get("recv").is_some())
        .map(frames)
        .collect();
    assert_eq!(
        got,
        [
            vec![b"1".to_vec()],
            vec![b"-2".to_vec()],
            vec![b"three".to_vec()]
        ]
    );
}

// ---------------------------------------------------------------------
// Timeouts and failures
// ---------------------------------------------------------------------

#[test]
fn timeout_ends_an_idle_run() {
    let exit = run(&[
        "pull",
        "--bind",
        "tcp://127.0.0.1:0",
        "--monitor",
        "--timeout",
        "300",
    ]);
    assert_eq!(exit.code, Some(0), "{exit:?}");
    assert!(exit.elapsed < Duration::from_secs(10), "{exit:?}");
    assert_eq!(
        events(&exit.lines),
        ["LISTENING", "CLOSED", "MONITOR_STOPPED"]
    );
    assert_monitor_ends(&exit);
}

#[test]
fn timeout_before_the_goal_fails() {
    let started = Instant::now();
    let exit = run(&[
        "dealer",
        "--bind",
        "tcp://127.0.0.1:0",
        "--recv",
        "1",
        "--timeout",
        "300",
    ]);
    assert!(started.elapsed() >= Duration::from_millis(300));
    assert_eq!(exit.code, Some(1), "{exit:?}");
    assert!(exit.stderr.contains("timed out"), "{}", exit.stderr);
    assert!(exit.stderr.contains("received 0 of 1"), "{}", exit.stderr);
    let exit = run(&[
        "push",
        "--connect",
        &format!("tcp://127.0.0.1:{}", closed_port()),
        "--send",
        "nobody",
        "--timeout",
        "200",
    ]);
    assert_eq!(exit.code, Some(1), "{exit:?}");
    assert!(exit.stderr.contains("sent 0 of 1"), "{}", exit.stderr);
    assert!(exit.lines.is_empty(), "{exit:?}");
}

#[test]
fn bind_to_a_port_in_use_fails_after_bind_failed() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let ep = format!("tcp://127.0.0.1:{port}");
    let exit = run(&[
        "rep",
        "--bind",
        &ep,
        "--monitor",
        "--timeout",
        CHILD_TIMEOUT,
    ]);
    assert_eq!(exit.code, Some(1), "{exit:?}");
    assert!(
        exit.stderr.contains("Address already in use"),
        "{}",
        exit.stderr
    );
    // libzmq closes the socket it could not bind (CLOSED) before BIND_FAILED.
    assert_eq!(
        events(&exit.lines),
        ["CLOSED", "BIND_FAILED", "MONITOR_STOPPED"]
    );
    let failed = event(&exit.lines, "BIND_FAILED");
    assert_eq!(failed["id"], 16);
    assert_eq!(failed["value"], 98); // EADDRINUSE
    assert_eq!(failed["endpoint"], format!("127.0.0.1:{port}"));
    assert_monitor_ends(&exit);
    assert!(exit.lines.iter().all(|v| v.get("bound").is_none()));

    // Without --monitor, the BIND_FAILED line alone.
    let exit = run(&["rep", "--bind", &ep, "--timeout", CHILD_TIMEOUT]);
    assert_eq!(exit.code, Some(1), "{exit:?}");
    assert_eq!(events(&exit.lines), ["BIND_FAILED"]);
    assert_eq!(exit.lines.len(), 1);
    drop(taken);
}

#[test]
fn reconnect_options_show_in_connect_retried() {
    let ep = format!("tcp://127.0.0.1:{}", closed_port());
    let exit = run(&[
        "dealer",
        "--connect",
        &ep,
        "--reconnect-ivl",
        "50",
        "--reconnect-ivl-max",
        "100",
        "--linger",
        "0",
        "--sndhwm",
        "10",
        "--rcvhwm",
        "10",
        "--maxmsgsize",
        "1000",
        "--handshake-ivl",
        "1000",
        "--heartbeat-ivl",
        "100",
        "--heartbeat-timeout",
        "300",
        "--heartbeat-ttl",
        "1000",
        "--routing-id",
        "me",
        "--monitor",
        "--timeout",
        "2000",
    ]);
    assert_eq!(exit.code, Some(0), "{exit:?}");
    let retried: Vec<u64> = exit
        .lines
        .iter()
        .filter(|v| v["event"] == "CONNECT_RETRIED")
        .map(|v| v["value"].as_u64().unwrap())
        .collect();
    assert!(retried.len() >= 2, "{exit:?}");
    // The back-off doubles from 50 ms up to 100 ms.
    assert_eq!(retried[..2], [50, 100]);
    assert!(retried.iter().all(|&v| v <= 100));
    assert_eq!(
        event(&exit.lines, "CONNECT_RETRIED")["endpoint"],
        ep.as_str()
    );
    assert_monitor_ends(&exit);
}

// ---------------------------------------------------------------------
// libzmq peers
// ---------------------------------------------------------------------

#[test]
fn libzmq_req_against_zmtp_rep_echo() {
    let mut rep = zmtp(&[
        "rep",
        "--bind",
        "tcp://127.0.0.1:*",
        "--echo",
        "--recv",
        "3",
        "--timeout",
        CHILD_TIMEOUT,
    ]);
    let ep = rep.bound();
    let zctx = zmq::Context::new();
    let req = zsock(&zctx, zmq::REQ);
    req.connect(&ep).unwrap();
    let messages: [&[&[u8]]; 3] = [
        &[b"ping"],
        &[&[0xff, 0x00, 0x80]],
        &[b"two", b"frames \xe2\x9c\x93"],
    ];
    for m in messages {
        req.send_multipart(m.iter().copied(), 0).unwrap();
        assert_eq!(req.recv_multipart(0).unwrap(), m);
    }
    let rep = rep.finish();
    assert_eq!(rep.code, Some(0), "{rep:?}");
    let lines = data(&rep.lines);
    assert_eq!(lines[0], json!({"bound": ep}));
    assert_eq!(lines[3], json!({"recv": [{"hex": "ff0080"}]}));
    assert_eq!(lines[4], json!({"sent": 2}));
    assert_eq!(lines[5], json!({"recv": ["two", "frames ✓"]}));
    assert_eq!(lines[6], json!({"sent": 3}));
    let got: Vec<Vec<Vec<u8>>> = lines
        .iter()
        .filter(|v| v.get("recv").is_some())
        .map(frames)
        .collect();
    let want: Vec<Vec<Vec<u8>>> = messages
        .iter()
        .map(|m| m.iter().map(|f| f.to_vec()).collect())
        .collect();
    assert_eq!(got, want);
}

#[test]
fn zmtp_req_against_libzmq_rep() {
    let zctx = zmq::Context::new();
    let rep = zsock(&zctx, zmq::REP);
    rep.bind("tcp://127.0.0.1:*").unwrap();
    let ep = zlast(&rep);
    let req = zmtp(&[
        "req",
        "--connect",
        &ep,
        "--send",
        "one",
        "--send",
        "two",
        "--recv",
        "2",
        "--timeout",
        CHILD_TIMEOUT,
    ]);
    for (ask, answer) in [("one", "1"), ("two", "2")] {
        assert_eq!(rep.recv_bytes(0).unwrap(), ask.as_bytes());
        rep.send(answer, 0).unwrap();
    }
    let req = req.finish();
    assert_eq!(req.code, Some(0), "{req:?}");
    assert_eq!(
        req.lines,
        [
            json!({"sent": 1}),
            json!({"recv": ["1"]}),
            json!({"sent": 2}),
            json!({"recv": ["2"]}),
        ]
    );
}

#[test]
fn zmtp_router_answers_libzmq_dealer() {
    let mut router = zmtp(&[
        "router",
        "--bind",
        "tcp://127.0.0.1:0",
        "--recv",
        "2",
        "--send",
        "reply",
        "--echo",
        "--timeout",
        CHILD_TIMEOUT,
    ]);
    let ep = router.bound();
    let zctx = zmq::Context::new();
    let dealer = zsock(&zctx, zmq::DEALER);
    dealer.set_identity(b"dealer-1").unwrap();
    dealer.connect(&ep).unwrap();
    dealer.send("hi", 0).unwrap();
    // The echo of "hi" and the --send message, in either order.
    let mut got = [dealer.recv_bytes(0).unwrap(), dealer.recv_bytes(0).unwrap()];
    got.sort();
    assert_eq!(got, [b"hi".to_vec(), b"reply".to_vec()]);
    dealer.send_multipart(["a", "b"], 0).unwrap();
    assert_eq!(
        dealer.recv_multipart(0).unwrap(),
        [b"a".to_vec(), b"b".to_vec()]
    );
    let router = router.finish();
    assert_eq!(router.code, Some(0), "{router:?}");
    let recvs: Vec<Value> = router
        .lines
        .iter()
        .filter(|v| v.get("recv").is_some())
        .cloned()
        .collect();
    assert_eq!(
        recvs,
        [
            json!({"recv": ["dealer-1", "hi"]}),
            json!({"recv": ["dealer-1", "a", "b"]}),
        ]
    );
    assert_eq!(
        router
            .lines
            .iter()
            .filter(|v| v.get("sent").is_some())
            .count(),
        3
    );
}

#[test]
fn zmtp_dealer_with_routing_id_to_libzmq_router() {
    let zctx = zmq::Context::new();
    let router = zsock(&zctx, zmq::ROUTER);
    router.bind("tcp://127.0.0.1:*").unwrap();
    let ep = zlast(&router);
    let dealer = zmtp(&[
        "dealer",
        "--connect",
        &ep,
        "--routing-id",
        "board-7",
        "--send",
        "status?",
        "--recv",
        "1",
        "--timeout",
        CHILD_TIMEOUT,
    ]);
    let m = router.recv_multipart(0).unwrap();
    assert_eq!(m, [b"board-7".to_vec(), b"status?".to_vec()]);
    router
        .send_multipart([&b"board-7"[..], &[0x00, 0x9f][..]], 0)
        .unwrap();
    let dealer = dealer.finish();
    assert_eq!(dealer.code, Some(0), "{dealer:?}");
    assert_eq!(
        dealer.lines,
        [json!({"sent": 1}), json!({"recv": [{"hex": "009f"}]})]
    );
}

/// `--metadata` properties reach a libzmq 4.3.4 peer (`zmq_msg_gets`),
/// a repeated name once, with its first value.
#[test]
fn zmtp_dealer_metadata_to_libzmq_router() {
    let zctx = zmq::Context::new();
    let router = zsock(&zctx, zmq::ROUTER);
    router.bind("tcp://127.0.0.1:*").unwrap();
    let ep = zlast(&router);
    let dealer = zmtp(&[
        "dealer",
        "--connect",
        &ep,
        "--metadata",
        "X-board:rev-b",
        "--metadata",
        "X-site:lab:2",
        "--metadata",
        "X-board:ignored",
        "--send",
        "hello",
        "--timeout",
        CHILD_TIMEOUT,
    ]);
    let mut id = zmq::Message::new();
    router.recv(&mut id, 0).unwrap();
    let mut body = zmq::Message::new();
    router.recv(&mut body, 0).unwrap();
    assert_eq!(&body[..], b"hello");
    assert_eq!(body.gets("X-board"), Some("rev-b"));
    assert_eq!(body.gets("X-site"), Some("lab:2"));
    assert_eq!(body.gets("Socket-Type"), Some("DEALER"));
    assert_eq!(body.gets("X-other"), None);
    let dealer = dealer.finish();
    assert_eq!(dealer.code, Some(0), "{dealer:?}");
}

#[test]
fn zmtp_sub_receives_from_libzmq_pub() {
    let zctx = zmq::Context::new();
    let publisher = zsock(&zctx, zmq::PUB);
    publisher.bind("tcp://127.0.0.1:*").unwrap();
    let ep = zlast(&publisher);
    let mut sub = zmtp(&[
        "sub",
        "--connect",
        &ep,
        "--subscribe",
        "",
        "--recv",
        "1",
        "--monitor",
        "--timeout",
        CHILD_TIMEOUT,
    ]);
    // Publish until the subscriber has it (slow joiner), at most WAIT.
    let start = Instant::now();
    let code = loop {
        publisher.send("news", 0).unwrap();
        if let Some(status) = sub.child.try_wait().unwrap() {
            break status.code();
        }
        assert!(start.elapsed() < WAIT, "no message reached zmtp");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(code, Some(0));
    let exit = sub.finish();
    assert_eq!(data(&exit.lines), [json!({"recv": ["news"]})]);
    assert_monitor_ends(&exit);
}

#[test]
fn zmtp_xpub_waits_for_a_libzmq_subscription() {
    let mut xpub = zmtp(&[
        "xpub",
        "--bind",
        "tcp://127.0.0.1:0",
        "--send",
        "topic-1 hello",
        "--timeout",
        CHILD_TIMEOUT,
    ]);
    let ep = xpub.bound();
    let zctx = zmq::Context::new();
    let sub = zsock(&zctx, zmq::SUB);
    sub.set_subscribe(b"topic-1").unwrap();
    sub.connect(&ep).unwrap();
    assert_eq!(sub.recv_bytes(0).unwrap(), b"topic-1 hello");
    let xpub = xpub.finish();
    assert_eq!(xpub.code, Some(0), "{xpub:?}");
    assert_eq!(
        data(&xpub.lines),
        [
            json!({"bound": ep}),
            json!({"recv": ["\u{1}topic-1"]}),
            json!({"sent": 1}),
        ]
    );
}

#[test]
fn zmtp_pub_reaches_libzmq_sub() {
    let zctx = zmq::Context::new();
    let sub = zsock(&zctx, zmq::SUB);
    sub.set_subscribe(b"").unwrap();
    sub.bind("tcp://127.0.0.1:*").unwrap();
    let ep = zlast(&sub);
    let publisher = zmtp(&[
        "pub",
        "--connect",
        &ep,
        "--send",
        "tick",
        "--timeout",
        CHILD_TIMEOUT,
    ]);
    // libzmq drops what a peer sent before it left unless it was read
    // already: read while the tool runs.
    assert_eq!(sub.recv_bytes(0).unwrap(), b"tick");
    let publisher = publisher.finish();
    assert_eq!(publisher.code, Some(0), "{publisher:?}");
    assert_eq!(publisher.lines, [json!({"sent": 1})]);
}

/// Every kind of string a frame can hold comes out as the same bytes
/// through a standard JSON parser; other bytes come out as hex.
#[test]
fn json_output_round_trips_any_frame() {
    let mut specials: Vec<Vec<u8>> = vec![
        b"".to_vec(),
        b"\"quoted\"".to_vec(),
        b"back\\slash \\\" \\u0041".to_vec(),
        b"line\nfeed\rreturn\ttab".to_vec(),
        "é ü 中文 😀 \u{7f} \u{2028} \u{fffd}".as_bytes().to_vec(),
        b"</script>{\"recv\":[]}".to_vec(),
        vec![0xc3],             // truncated UTF-8
        vec![0xed, 0xa0, 0x80], // a surrogate: not UTF-8
        vec![0xff; 3],
    ];
    specials.push((0u8..0x20).collect());
    let mut pull = zmtp(&[
        "pull",
        "--bind",
        "tcp://127.0.0.1:0",
        "--recv",
        &specials.len().to_string(),
        "--timeout",
        CHILD_TIMEOUT,
    ]);
    let ep = pull.bound();
    let zctx = zmq::Context::new();
    let push = zsock(&zctx, zmq::PUSH);
    push.connect(&ep).unwrap();
    for m in &specials {
        push.send(m.as_slice(), 0).unwrap();
    }
    let exit = pull.finish();
    assert_eq!(exit.code, Some(0), "{exit:?}");
    let got: Vec<Vec<u8>> = data(&exit.lines)
        .iter()
        .filter(|v| v.get("recv").is_some())
        .map(|v| frames(v).concat())
        .collect();
    assert_eq!(got, specials);
    let controls = exit.lines.last().unwrap()["recv"][0].as_str().unwrap();
    assert_eq!(controls.chars().count(), 0x20);

    // And the other way: --send text reaches libzmq unchanged.
    let pull = zsock(&zctx, zmq::PULL);
    pull.bind("tcp://127.0.0.1:*").unwrap();
    let text = "a \"b\" \\c\n\u{1}😀";
    let push = zmtp(&[
        "push",
        "--connect",
        &zlast(&pull),
        "--send",
        text,
        "--timeout",
        CHILD_TIMEOUT,
    ]);
    assert_eq!(pull.recv_bytes(0).unwrap(), text.as_bytes());
    let exit = push.finish();
    assert_eq!(exit.code, Some(0), "{exit:?}");
}

#[test]
fn closed_stdout_ends_the_run() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_zmtp"))
        .args([
            "pull",
            "--bind",
            "tcp://127.0.0.1:0",
            "--timeout",
            CHILD_TIMEOUT,
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    let ep = parse(&first)["bound"].as_str().unwrap().to_owned();
    // stdout is closed now; the next line the tool writes ends the run.
    let zctx = zmq::Context::new();
    let push = zsock(&zctx, zmq::PUSH);
    push.connect(&ep).unwrap();
    push.send("x", 0).unwrap();
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if start.elapsed() > WAIT {
            let _ = child.kill();
            panic!("zmtp did not notice its closed stdout");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    assert_eq!(status.code(), Some(1));
    assert!(start.elapsed() < Duration::from_secs(10));
}

#[test]
fn maxmsgsize_closes_a_connection_that_sends_more() {
    let mut pull = zmtp(&[
        "pull",
        "--bind",
        "tcp://127.0.0.1:0",
        "--maxmsgsize",
        "64",
        "--recv",
        "1",
        "--monitor",
        "--timeout",
        CHILD_TIMEOUT,
    ]);
    let ep = pull.bound();
    let zctx = zmq::Context::new();
    let push = zsock(&zctx, zmq::PUSH);
    push.connect(&ep).unwrap();
    push.send(vec![b'x'; 65], 0).unwrap();
    let disconnected = pull.until(|v| v["event"] == "DISCONNECTED");
    assert_eq!(disconnected["endpoint"], ep.as_str());
    // libzmq reconnects; a message within the limit gets through.
    push.send("ok", 0).unwrap();
    let exit = pull.finish();
    assert_eq!(exit.code, Some(0), "{exit:?}");
    let recvs: Vec<Value> = data(&exit.lines)
        .into_iter()
        .filter(|v| v.get("recv").is_some())
        .collect();
    assert_eq!(recvs, [json!({"recv": ["ok"]})]);
    assert_monitor_ends(&exit);
}
