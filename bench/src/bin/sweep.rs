//! Runs every stack, transport and message size with the perf tools in
//! separate processes and prints tables of medians (see `bench/README.md`).

fn main() -> std::process::ExitCode {
    zmtp_bench::sweep::main()
}
