//! End-to-end tests of the `zmtp` tool's CURVE flags (`--curve-server`,
//! `--curve-publickey`, `--curve-secretkey`, `--curve-serverkey`,
//! `--zap-allow-key`): two tool processes over CURVE, a listed key
//! accepted and an unknown one refused, and bad keys as usage errors.
//! Loopback only, ports chosen by the system, every wait bounded.
#![cfg(feature = "curve")]
#![allow(missing_docs)]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

#[path = "common/tool.rs"]
mod tool;

use serde_json::{Value, json};
use tool::*;

fn z85(k: &[u8; 32]) -> String {
    String::from_utf8(zmtp_core::z85::encode_key(k).to_vec()).unwrap()
}

/// A tool CURVE server (ROUTER, echo) accepting `allowed`'s key only.
fn curve_server(
    server: &zmtp_std::CurveKeypair,
    allowed: &zmtp_std::CurveKeypair,
) -> (Zmtp, String) {
    let mut s = zmtp(&[
        "router",
        "--bind",
        "tcp://127.0.0.1:0",
        "--echo",
        "--curve-server",
        "--curve-secretkey",
        &z85(&server.secret),
        "--zap-allow-key",
        &z85(&allowed.public),
        "--monitor",
        "--timeout",
        CHILD_TIMEOUT,
    ]);
    let ep = s.bound();
    (s, ep)
}

fn curve_client(ep: &str, server: &[u8; 32], me: &zmtp_std::CurveKeypair, timeout: &str) -> Exit {
    run(&[
        "dealer",
        "--connect",
        ep,
        "--curve-serverkey",
        &z85(server),
        "--curve-publickey",
        &z85(&me.public),
        "--curve-secretkey",
        &z85(&me.secret),
        "--send",
        "hello",
        "--recv",
        "1",
        "--monitor",
        "--timeout",
        timeout,
    ])
}

#[test]
fn two_tools_over_curve() {
    let server = zmtp_std::curve_keypair();
    let client = zmtp_std::curve_keypair();
    let stranger = zmtp_std::curve_keypair();
    let (mut srv, ep) = curve_server(&server, &client);
    let ok = curve_client(&ep, &server.public, &client, "10000");
    assert_eq!(ok.code, Some(0), "{ok:?}");
    assert_eq!(
        data(&ok.lines),
        [json!({"sent": 1}), json!({"recv": ["hello"]})],
        "{ok:?}"
    );
    assert!(
        events(&ok.lines).contains(&"HANDSHAKE_SUCCEEDED".to_owned()),
        "{ok:?}"
    );
    srv.event("HANDSHAKE_SUCCEEDED");

    // An unknown key: 400 on both sides, no message, the run times out.
    let denied = curve_client(&ep, &server.public, &stranger, "2000");
    assert_eq!(denied.code, Some(1), "{denied:?}");
    assert_eq!(data(&denied.lines), [] as [Value; 0], "{denied:?}");
    let auth = denied
        .lines
        .iter()
        .find(|v| v["event"] == "HANDSHAKE_FAILED_AUTH")
        .unwrap_or_else(|| panic!("{denied:?}"));
    assert_eq!(auth["value"], 400);
    let e = srv.event("HANDSHAKE_FAILED_AUTH");
    assert_eq!(e["value"], 400);
}

#[test]
fn bad_keys_are_usage_errors() {
    let kp = zmtp_std::curve_keypair();
    let good = z85(&kp.public);
    let short = &good[..39];
    for args in [
        &[
            "dealer",
            "--curve-serverkey",
            short,
            "--curve-publickey",
            &good,
            "--curve-secretkey",
            &good,
        ][..],
        &[
            "router",
            "--curve-server",
            "--curve-secretkey",
            "not a key at all, forty characters long!",
        ],
        &["router", "--curve-server"],
        &["dealer", "--curve-serverkey", &good],
        &["router", "--zap-allow-key", short],
        &[
            "router",
            "--curve-server",
            "--curve-secretkey",
            &good,
            "--plain-server",
        ],
    ] {
        let exit = run(args);
        assert_eq!(exit.code, Some(2), "{args:?}: {exit:?}");
    }
}
