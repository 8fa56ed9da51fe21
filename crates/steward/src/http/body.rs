//! Request bodies read before anything can refuse the request.
//!
//! A request refused before its body is read (a path id that is not a
//! number, a token on a session-only route, another client's id) used to
//! leave the body on the connection; the server then closed it under a
//! client still sending, which that client sees as a reset or a TLS EOF,
//! not as our answer (the CI fuzzer lost requests this way). So a body
//! that declares its length and is within the body limit is read first,
//! whole; a larger or chunked one (an attachment upload) still streams,
//! and the limit still answers 413.

use axum::body::Body;
use axum::extract::Request;
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

pub async fn read_declared(axum::extract::State(limit): axum::extract::State<usize>, req: Request, next: Next) -> Response {
    let declared = req.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<usize>().ok());
    match declared {
        Some(n) if n > 0 && n <= limit => {
            let (parts, body) = req.into_parts();
            match axum::body::to_bytes(body, limit).await {
                Ok(bytes) => next.run(Request::from_parts(parts, Body::from(bytes))).await,
                // The client stopped sending: nobody is there to answer.
                Err(e) => crate::error::ApiError::BadRequest(format!("the request body could not be read: {e}")).into_response(),
            }
        }
        _ => next.run(req).await,
    }
}
