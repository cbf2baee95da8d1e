//! Prints what a real libzmq writes on the wire, as Rust byte-array
//! constants: `cargo run -p zmtp-tests --bin capture`.
//!
//! The output is kept in `tests/captures/libzmq-4.3.4.txt`.

use std::process::ExitCode;

fn main() -> ExitCode {
    let (major, minor, patch) = zmq::version();
    match zmtp_tests::capture::all() {
        Ok(captures) => {
            println!(
                "// Bytes written by libzmq {major}.{minor}.{patch} (built from source by the"
            );
            println!("// `zmq` 0.10 crate), captured over TCP on 127.0.0.1 by a hand-driven peer:");
            println!(
                "// `cargo run -p zmtp-tests --bin capture`. Unless a note says otherwise the"
            );
            println!("// libzmq socket is bound (the accepting side) and the peer sent a ZMTP 3.1");
            println!("// NULL greeting and a READY for a compatible socket type.");
            for c in &captures {
                println!();
                print!("{}", c.to_rust());
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("capture failed: {e}");
            ExitCode::FAILURE
        }
    }
}
