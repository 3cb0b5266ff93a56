//! How progress and results look on a terminal or in a pipe. Messages from the engine are
//! sanitised where they are made; they are sanitised again here because this is the edge.

use crate::cli::ProgressFormat;
use crate::orchestrator::progress::{OpResult, Outcome, Progress};
use crate::text::sanitize;
use crate::util::duration::format_elapsed;

/// `[  1.234s] verify-deletion  running   Verified deletion of Pod x (-> 200 OK)`
pub fn progress_line(p: &Progress) -> String {
    let secs = p.elapsed.as_secs_f64();
    let mut line = format!(
        "[{secs:8.3}s] {:<16} {:<9} {}",
        p.step.name(),
        p.state.name(),
        sanitize(&p.message)
    );
    if let Some(api) = &p.api {
        line.push_str(&format!(" -> {}", sanitize(api)));
    }
    line
}

pub fn progress(p: &Progress, format: ProgressFormat) {
    match format {
        ProgressFormat::Text => eprintln!("{}", progress_line(p)),
        ProgressFormat::Json => match serde_json::to_string(p) {
            Ok(s) => eprintln!("{s}"),
            Err(e) => eprintln!("(progress not serialisable: {e})"),
        },
    }
}

fn result_word(r: OpResult) -> &'static str {
    match r {
        OpResult::Succeeded => "succeeded",
        OpResult::Failed => "FAILED",
        OpResult::LockHeld => "REFUSED (lock held)",
        OpResult::Deadline => "FAILED (deadline passed)",
        OpResult::Usage => "REFUSED (bad input)",
        OpResult::Cancelled => "CANCELLED",
    }
}

pub fn outcome_text(o: &Outcome) -> String {
    let mut out = format!(
        "{} {}: {} in {} (operation {}, {} retr{})\n",
        o.kind.name(),
        o.endpoint,
        result_word(o.result),
        format_elapsed(o.elapsed),
        o.op_id,
        o.retries,
        if o.retries == 1 { "y" } else { "ies" }
    );
    if let Some(step) = o.failed_step {
        out.push_str(&format!("  failed at: {step}\n"));
    }
    out.push_str(&format!("  {}\n", sanitize(&o.message)));
    if let Some(r) = &o.rollback {
        out.push_str(&format!("  {}\n", sanitize(r)));
    }
    for c in &o.created {
        out.push_str(&format!("  created {c} (uid {})\n", c.uid));
    }
    if let Some(j) = &o.journal {
        out.push_str(&format!("  journal: {}\n", j.display()));
    }
    out
}

pub fn outcome(o: &Outcome, format: ProgressFormat) {
    match format {
        ProgressFormat::Text => print!("{}", outcome_text(o)),
        ProgressFormat::Json => match serde_json::to_string_pretty(o) {
            Ok(s) => println!("{s}"),
            Err(e) => eprintln!("(result not serialisable: {e})"),
        },
    }
}
