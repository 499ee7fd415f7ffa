//! A file per page: its handlers and its template struct.

pub mod activity;
pub mod audit;
pub mod group;
pub mod groups;
pub mod login;
pub mod member;
pub mod members;
pub mod settings;
pub mod signals;
pub mod signin;
pub mod webhooks;
