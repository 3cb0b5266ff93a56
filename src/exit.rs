//! Process exit codes, the same for every command (DESIGN.md, Interfaces).
//!
//! Scripts and the ops-room wrapper branch on these, so the numbers are part of the interface:
//! never renumber a variant.

/// How a command ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum Exit {
    /// The command did what it was asked.
    Ok = 0,
    /// The command ran and failed (the API refused, a step failed, a rollback was needed).
    Failed = 1,
    /// Bad usage or input: unknown flag, malformed `NS/NAME`, bad duration, unknown scenario,
    /// or a command this build does not have yet.
    Usage = 2,
    /// Refused because another operation holds the endpoint's lease.
    LockHeld = 3,
    /// A deadline passed (deletion not verified, endpoint not ready in time).
    Deadline = 4,
}

impl Exit {
    /// The numeric process exit code.
    pub const fn code(self) -> u8 {
        self as u8
    }
}

impl From<Exit> for std::process::ExitCode {
    fn from(exit: Exit) -> Self {
        std::process::ExitCode::from(exit.code())
    }
}

#[cfg(test)]
mod tests {
    use super::Exit;

    #[test]
    fn codes_match_the_documented_interface() {
        let table = [
            (Exit::Ok, 0),
            (Exit::Failed, 1),
            (Exit::Usage, 2),
            (Exit::LockHeld, 3),
            (Exit::Deadline, 4),
        ];
        for (exit, code) in table {
            assert_eq!(exit.code(), code, "{exit:?}");
        }
    }
}
