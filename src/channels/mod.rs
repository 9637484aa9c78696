//! Channels: a protocol in, a [`crate::intake::NewTip`] out (and feedback back out). Each
//! front door is one folder holding its HTTP handlers, its parsing, its own tables and its
//! feedback sender:
//!
//! * `h5`: the citizen's mobile page and API (CONTRACT §3): file, look up, add information,
//!   claim a reward;
//! * `wechat`: the WeChat Official Account and WeCom bots (CONTRACT §4); the protocol is
//!   `crates/wechat`, the conversation engine `crates/dialog`;
//! * `hotline`: the 12393 / 12345 call-centre bridge (CONTRACT §5);
//! * `staff`: letters, visits and calls recorded by intake staff.
//!
//! Channels sit below `web`: a handler reads what it needs through [`Doors`], which the web
//! layer's state provides, so nothing here names the web module. [`body`] and [`upload`] are
//! the request-reading plumbing they share.

pub mod body;
pub mod gate;
pub mod h5;
pub mod hotline;
pub mod staff;
pub mod upload;
pub mod wechat;

use std::sync::Arc;

use tokio::sync::Semaphore;

use crate::config::Config;
use crate::intake::Intake;
use crate::store::Db;
use crate::vault::Vault;
use crate::workflow::Workflow;

/// What the channels' handlers need from the running service. The web layer's state
/// implements it and registers itself as `web::Data<dyn Doors>`.
pub trait Doors: Send + Sync + 'static {
    fn config(&self) -> &Config;
    fn db(&self) -> &Db;
    fn vault(&self) -> &Arc<Vault>;
    fn intake(&self) -> &Intake;
    fn workflow(&self) -> &Workflow;
    /// Image decoding is CPU- and memory-heavy: at most one per core at a time.
    fn decode_permits(&self) -> &Semaphore;
    fn bots(&self) -> &Arc<wechat::Bots>;
    /// The instance-wide bound on forms with files ([`gate`]).
    fn uploads(&self) -> &gate::UploadGate;
}

impl AsRef<Intake> for dyn Doors {
    fn as_ref(&self) -> &Intake {
        self.intake()
    }
}

/// The handlers' state: `web::Data<dyn Doors>`.
pub type State = actix_web::web::Data<dyn Doors>;
