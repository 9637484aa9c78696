//! HTTP tests against the real server, each on SQLite and on PostgreSQL.

mod helpers;
mod oracle;
mod pysink;
#[path = "../support/smtp_sink.rs"]
mod smtp_sink;
#[path = "../support/source.rs"]
mod source;
mod staffkit;
#[path = "../support/tools.rs"]
mod tools;

mod admin_duties;
mod audit_chain;
mod bodies;
mod bots;
mod calendar;
mod combined;
mod console;
mod coverage;
mod deadlines;
mod evidence;
mod followup;
mod health;
mod hotline;
mod inputs;
mod limits;
mod notices;
mod openapi;
mod permissions;
mod privacy;
mod protection;
mod reach;
mod related;
mod reports;
mod retention;
mod reveal;
mod rewards;
mod robots;
mod rotation;
mod schema;
mod scoping;
mod sms;
mod staff_auth;
mod stall;
mod triage;
mod typical;
mod workflow;
mod write_path;
