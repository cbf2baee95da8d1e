//! Prints what a real libzmq writes on the wire, as Rust byte-array
//! constants: `cargo run -p zmtp-tests --bin capture`.
//!
//! The output is kept in `tests/captures/libzmq-4.3.4.txt`.

use std::process::ExitCode;

fn main() -> ExitCode {
    match zmtp_tests::capture::all() {
        Ok(captures) => {
            print!("{}", zmtp_tests::capture::render(&captures));
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("capture failed: {e}");
            ExitCode::FAILURE
        }
    }
}
