//! Request extractors: the authenticated staff member behind `Authorization: Bearer …`.
//! The check itself is [`crate::staff::principal::authenticate`]; this is only its HTTP side.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{web, FromRequest, HttpRequest};

use super::AppState;
use crate::channels::body::client_address;
use crate::error::AppError;
use crate::staff::principal::{authenticate, Access, Enrolling, PasswordChanging, Principal};

async fn from_headers(req: HttpRequest, access: Access) -> Result<Principal, AppError> {
    let state = req
        .app_data::<web::Data<AppState>>()
        .ok_or_else(|| AppError::internal(anyhow::anyhow!("no app state")))?
        .clone();
    let authorization = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    let client = client_address(&req, &state.config.server);
    authenticate(&state.db, &state.vault, &client, authorization, access).await
}

impl FromRequest for Principal {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move { from_headers(req, Access::Full).await })
    }
}

/// A staff member who may still be enrolling a second factor (TOTP set-up, logout).
impl FromRequest for Enrolling {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move { from_headers(req, Access::Enrolling).await.map(Enrolling) })
    }
}

/// A staff member who may still have to choose their own password (the password change).
impl FromRequest for PasswordChanging {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            from_headers(req, Access::PasswordChange)
                .await
                .map(PasswordChanging)
        })
    }
}
