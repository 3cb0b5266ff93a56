fn main() {
    // TEMP until the CLI lands
    let a: Vec<String> = std::env::args().collect();
    let cmd = llmops_console::sim::server::SimCommand {
        listen: a.get(2).cloned().unwrap_or("127.0.0.1:0".into()),
        scenario: a.get(3).cloned().unwrap_or("healthy".into()),
        write_kubeconfig: a
            .get(4)
            .cloned()
            .unwrap_or("/tmp/sim.kubeconfig".into())
            .into(),
        user: "admin".into(),
        seed: None,
    };
    std::process::exit(llmops_console::sim::server::run_command(&cmd));
}
