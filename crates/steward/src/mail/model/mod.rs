//! The pure rules of mail: reading a message (`read`: MIME to what a
//! ticket needs, never failing), whether it came from a machine and must
//! never be answered (`automatic`), the part a reply quotes (`quote`), the
//! ticket number in a subject (`subject`), mail HTML people can trust
//! (`html`) and the templates mail is made from (`template`). No I/O;
//! property-tested.

pub mod automatic;
pub mod html;
pub mod quote;
pub mod read;
pub mod subject;
pub mod template;
