//! A handler whose calls never return, and which tells the test when one is dropped: for
//! the tests of what ends a call that nobody waits for any more.

use switchyard_core::{Handler, Message, handler_fn};
use tokio::sync::{mpsc, oneshot};

/// The handler, and where each of its calls sends, as it starts, a sender whose
/// [`closed`](oneshot::Sender::closed) resolves once that call is dropped.
pub(crate) fn hanging_handler() -> (
    impl Handler + 'static,
    mpsc::UnboundedReceiver<oneshot::Sender<()>>,
) {
    let (entered, calls) = mpsc::unbounded_channel();
    let handler = handler_fn(move |_message: Message| {
        let entered = entered.clone();
        async move {
            let (alive, gone) = oneshot::channel::<()>();
            let _ = entered.send(alive);
            // Held until this call is dropped, which closes `alive`.
            let _gone = gone;
            std::future::pending::<()>().await;
            Ok(Vec::<Message>::new())
        }
    });
    (handler, calls)
}
