//! HTTP tests against the real server, each on SQLite and on PostgreSQL.

mod helpers;

mod bots;
mod followup;
mod health;
mod privacy;
mod reports;
mod rotation;
