fn main() -> std::process::ExitCode {
    jubao::cli::main()
}
