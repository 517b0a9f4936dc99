//! Each screen's key handling: the action its key table (`keys.rs`) found,
//! turned into state changes and `Cmd`s; and the `/` and `:` prompts, where
//! characters are text. Like `update`, nothing here awaits.

mod clients;
mod events;
mod grants;
mod overview;
mod prompt;
