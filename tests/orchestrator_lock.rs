//! Acceptance 5: two redeploys of one endpoint started together, 50 times. Every time exactly one
//! proceeds (exit 0) and the other is refused with exit 3, naming the holder `user@host/pid`
//! (the winner's pid). Pairs run on ten endpoints of the fast scenario at once, five rounds.

mod common;
mod orchestrator;

use orchestrator::cluster::Cluster;
use orchestrator::console::{Console, USER};
use orchestrator::endpoint::Ep;
use orchestrator::{DEADLINE, parallel, scenario};

const PAIRS: usize = 50;
const ENDPOINTS: usize = 10;

/// One race: both started back to back, both followed to the end.
fn race(c: &Cluster, con: &Console, ep: &Ep, round: usize) -> String {
    let args = ["redeploy", &ep.arg(), "--yes", "-o", "json"];
    let a = con.spawn(&args);
    let b = con.spawn(&args);
    let pids = [a.pid(), b.pid()];
    let runs = [a.finish(DEADLINE), b.finish(DEADLINE)];
    let codes: Vec<Option<i32>> = runs.iter().map(|r| r.code).collect();
    let winner = codes.iter().position(|c| *c == Some(0));
    let loser = codes.iter().position(|c| *c == Some(3));
    let (Some(w), Some(l)) = (winner, loser) else {
        panic!(
            "round {round}, {}: expected one exit 0 and one exit 3, got {codes:?}\n=== first:\n{}\n=== second:\n{}",
            ep.arg(),
            runs[0].explain(),
            runs[1].explain()
        );
    };
    let refused = &runs[l];
    let r = refused.result();
    assert_eq!(r["result"], "lock-held", "{}", refused.explain());
    let holder = format!("/{}", pids[w]);
    let text = format!("{}{}", refused.stdout, refused.stderr);
    assert!(
        text.contains(&format!("{USER}@")) && text.contains(&holder),
        "round {round}: the refusal does not name the holder {USER}@HOST{holder}:\n{}",
        refused.explain()
    );
    assert_eq!(
        runs[w].result()["result"],
        "succeeded",
        "{}",
        runs[w].explain()
    );
    ep.ready(c)
        .unwrap_or_else(|why| panic!("{} not Ready after round {round}: {why}", ep.arg()));
    assert!(
        c.lease(&ep.ns, &ep.name).is_none(),
        "lease of {} left after round {round}",
        ep.arg()
    );
    format!(
        "{} {}",
        ep.name,
        if w == 0 { "first won" } else { "second won" }
    )
}

#[test]
fn two_redeploys_started_together_one_proceeds_one_is_refused_naming_the_holder() {
    let c = Cluster::start(&scenario("fast"));
    let con = Console::new(&c);
    let eps: Vec<Ep> = (0..ENDPOINTS)
        .map(|i| Ep::raw("orch", &format!("raw-{i:04}")))
        .collect();
    for ep in &eps {
        ep.wait_ready(&c, DEADLINE);
    }
    let (c, con) = (&c, &con);
    let mut outcomes = Vec::new();
    for round in 0..PAIRS / ENDPOINTS {
        outcomes.extend(parallel(
            ENDPOINTS,
            eps.iter()
                .map(|ep| {
                    let job: Box<dyn FnOnce() -> String + Send> =
                        Box::new(move || race(c, con, ep, round));
                    (format!("round {round} {}", ep.arg()), job)
                })
                .collect(),
        ));
    }
    assert_eq!(outcomes.len(), PAIRS);
    let second = outcomes
        .iter()
        .filter(|o| o.ends_with("second won"))
        .count();
    common::shout(&format!(
        "lock race: {PAIRS} pairs, each exactly one exit 0 and one exit 3 naming the winner; \
         the second-started won {second} times"
    ));
}
