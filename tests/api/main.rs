//! HTTP tests against the real server, each on SQLite and on PostgreSQL.

mod helpers;

mod followup;
mod health;
mod hotline;
mod privacy;
mod reports;
mod rotation;
