//! The [`HealthCheck`] trait that an endpoint may register, and [`health_check_fn`] to make
//! one from a closure.

use std::future::Future;

use async_trait::async_trait;
use switchyard_core::BoxError;

/// Says whether an endpoint can take deliveries: `Ok(())` if it can, an error saying why
/// not otherwise.
///
/// The registry's health monitor calls it every
/// [`health_check_interval`](super::EndpointConfig::health_check_interval), with a
/// [`health_check_timeout`](super::EndpointConfig::health_check_timeout); a check that
/// fails, times out or panics marks the endpoint unhealthy until a later check succeeds. The
/// error's text is logged through [`switchyard_core::report`], which redacts credentials.
///
/// Object-safe, so that checks can be stored as `Arc<dyn HealthCheck>`.
#[async_trait]
pub trait HealthCheck: Send + Sync {
    /// Checks the endpoint once.
    async fn check(&self) -> Result<(), BoxError>;
}

/// A [`HealthCheck`] made from an async closure; see [`health_check_fn`].
#[derive(Clone)]
pub struct HealthCheckFn<F> {
    f: F,
}

/// Makes a [`HealthCheck`] from an async function.
///
/// ```
/// use std::sync::{Arc, atomic::{AtomicBool, Ordering}};
/// use switchyard_bus::endpoint::{HealthCheck, health_check_fn};
///
/// # futures::executor::block_on(async {
/// let up = Arc::new(AtomicBool::new(true));
/// let flag = up.clone();
/// let check = health_check_fn(move || {
///     let up = flag.load(Ordering::Relaxed);
///     async move { if up { Ok(()) } else { Err("database unreachable".into()) } }
/// });
/// assert!(check.check().await.is_ok());
/// up.store(false, Ordering::Relaxed);
/// assert!(check.check().await.is_err());
/// # });
/// ```
pub fn health_check_fn<F, Fut>(f: F) -> HealthCheckFn<F>
where
    F: Fn() -> Fut + Send + Sync,
    Fut: Future<Output = Result<(), BoxError>> + Send,
{
    HealthCheckFn { f }
}

#[async_trait]
impl<F, Fut> HealthCheck for HealthCheckFn<F>
where
    F: Fn() -> Fut + Send + Sync,
    Fut: Future<Output = Result<(), BoxError>> + Send,
{
    async fn check(&self) -> Result<(), BoxError> {
        (self.f)().await
    }
}
