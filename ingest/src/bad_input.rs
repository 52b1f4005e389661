use serde::{Deserialize, Serialize};

use crate::Origin;

/// Input a parser could not read: where, and why. Parsers return these
/// beside the good records; one bad line never fails a file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BadInput {
    /// Source and line (or the line where the bad part starts).
    pub origin: Origin,
    /// What was wrong, for a person to read.
    pub reason: String,
}
