fn main() -> std::process::ExitCode {
    acapy_harness::cli::main()
}
