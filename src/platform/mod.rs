//! Platform-declared Connect clusters at run time: the cache resolution reads them from
//! ([`book`]), and the controller that writes their status ([`controller`]).

pub mod book;
pub mod controller;
