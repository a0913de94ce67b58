//! The FHIR REST routes under the base path, and `/healthz`, `/readyz`, `/metrics`.

use super::body::read_body;
use super::negotiate::{parse_prefer, request_format, response_format, Prefer};
use super::respond::{
    error_response, off_worker, stored_response_offloaded, value_response, write_response,
    Negotiated,
};
use crate::fhir::bundle::parse_json_bundle;
use crate::fhir::entry::{EntryRequest, Method, Target};
use crate::fhir::ids::{check_id, parse_version_tag};
use crate::search::parse::Summary;
use crate::search::subset::{element_list, Subset};
use crate::service::HistoryParams;
use crate::store::{HistoryQuery, HistoryScope};
use crate::{Gateway, GatewayError};
use actix_web::http::header;
use actix_web::web::{self, Bytes, Data, Path, Payload};
use actix_web::{HttpRequest, HttpResponse};
use serde_json::Value;
use tsunagi_profiles::{is_resource_type, parse_json_value, Format, Resource};

/// Registers every route on `config`; `base_path` is e.g. `/fhir`.
pub fn configure(config: &mut web::ServiceConfig, base_path: &str) {
    config
        .route("/healthz", web::get().to(healthz))
        .route("/readyz", web::get().to(readyz))
        .route("/metrics", web::get().to(metrics))
        .service(
            web::scope(base_path)
                .route("/metadata", web::get().to(metadata))
                .route("/_history", web::get().to(history_system))
                .route("/$convert", web::post().to(super::operations::convert))
                .route("/$ingest", web::post().to(super::operations::ingest))
                .route(
                    "/$receive-referral",
                    web::post().to(super::referral::receive_referral),
                )
                .route(
                    "/ServiceRequest/{id}/$referral-package",
                    web::post().to(super::referral::referral_package),
                )
                .route(
                    "/$validate",
                    web::post().to(super::validate::validate_system),
                )
                .route(
                    "/Patient/$match",
                    web::post().to(super::patient_match::match_patients),
                )
                .route("", web::post().to(bundle))
                .route("/", web::post().to(bundle))
                .route("", web::get().to(search_pages))
                .route("/", web::get().to(search_pages))
                .route("/{type}/_search", web::post().to(search_post))
                .route(
                    "/{type}/$validate",
                    web::post().to(super::validate::validate_type),
                )
                .route("/{type}/_history", web::get().to(history_type))
                .route("/{type}/{id}/_history", web::get().to(history_instance))
                .route("/{type}/{id}/_history/{version}", web::get().to(vread))
                .route("/{type}/{id}/_history/{version}", web::head().to(vread))
                .route("/{type}/{id}/$everything", web::get().to(everything))
                .route(
                    "/{type}/{id}/{compartment}",
                    web::get().to(compartment_search),
                )
                .route("/{type}", web::get().to(search_get))
                .route("/{type}", web::post().to(create))
                .route("/{type}", web::put().to(conditional_write))
                .route("/{type}", web::patch().to(conditional_write))
                .route("/{type}", web::delete().to(conditional_write))
                .route("/{type}/{id}", web::get().to(read))
                .route("/{type}/{id}", web::head().to(read))
                .route("/{type}/{id}", web::put().to(instance_write))
                .route("/{type}/{id}", web::patch().to(instance_write))
                .route("/{type}/{id}", web::delete().to(instance_write))
                .default_service(web::to(not_found)),
        )
        .default_service(web::to(not_found));
}

/// Per-request context: parameters, negotiated format, preferences.
pub(super) struct Context {
    pub(super) params: Vec<(String, String)>,
    pub(super) negotiated: Negotiated,
    pub(super) prefer: Prefer,
}

impl Context {
    fn of(request: &HttpRequest) -> Result<Self, (GatewayError, Negotiated)> {
        let params: Vec<(String, String)> =
            form_urlencoded::parse(request.query_string().as_bytes())
                .into_owned()
                .collect();
        let param = |name: &str| {
            params
                .iter()
                .find(|(key, _)| key == name)
                .map(|(_, value)| value.as_str())
        };
        let pretty = param("_pretty") == Some("true");
        let accept = header_text(request, header::ACCEPT);
        let format = response_format(param("_format"), accept).map_err(|error| {
            (
                error,
                Negotiated {
                    format: Format::Json,
                    pretty,
                },
            )
        })?;
        Ok(Context {
            negotiated: Negotiated { format, pretty },
            prefer: parse_prefer(header_text(
                request,
                header::HeaderName::from_static("prefer"),
            )),
            params,
        })
    }
}

/// How an answer to `request` is written (JSON when `_format`/`Accept` name nothing we write).
pub(super) fn negotiated_of(request: &HttpRequest) -> Negotiated {
    match Context::of(request) {
        Ok(context) => context.negotiated,
        Err((_, negotiated)) => negotiated,
    }
}

pub(super) fn header_text(request: &HttpRequest, name: header::HeaderName) -> Option<&str> {
    request
        .headers()
        .get(name)
        .and_then(|value| value.to_str().ok())
}

/// Runs `handle` with the request context and renders its error, if any, as OperationOutcome.
pub(super) async fn answer<F, Fut>(request: &HttpRequest, handle: F) -> HttpResponse
where
    F: FnOnce(Context) -> Fut,
    Fut: std::future::Future<Output = Result<HttpResponse, GatewayError>>,
{
    match Context::of(request) {
        Ok(context) => {
            let negotiated = context.negotiated;
            handle(context)
                .await
                .unwrap_or_else(|error| error_response(&error, negotiated))
        }
        Err((error, negotiated)) => error_response(&error, negotiated),
    }
}

/// Checks the `{type}/{id}` of a URL.
fn instance((res_type, id): (String, String)) -> Result<(String, String), GatewayError> {
    resource_type(&res_type)?;
    check_id(&id, "url")?;
    Ok((res_type, id))
}

fn resource_type(name: &str) -> Result<&str, GatewayError> {
    if is_resource_type(name) {
        Ok(name)
    } else {
        Err(GatewayError::UnknownResourceType(name.to_owned()))
    }
}

async fn healthz() -> HttpResponse {
    HttpResponse::Ok().content_type("text/plain").body("ok")
}

async fn readyz(gateway: Data<Gateway>) -> HttpResponse {
    match gateway.ready().await {
        Ok(()) => HttpResponse::Ok().content_type("text/plain").body("ready"),
        Err(error) => HttpResponse::ServiceUnavailable()
            .content_type("text/plain")
            .body(format!("not ready: {error}")),
    }
}

async fn metrics(gateway: Data<Gateway>) -> HttpResponse {
    let text = gateway.metrics().render(gateway.store_pool());
    HttpResponse::Ok()
        .content_type("application/openmetrics-text; version=1.0.0; charset=utf-8")
        .body(text)
}

async fn not_found(request: HttpRequest) -> HttpResponse {
    let path = request.path().to_owned();
    let method = request.method().clone();
    answer(&request, |_| async move {
        Err(GatewayError::NotFound(format!("route {method} {path}")))
    })
    .await
}

async fn metadata(request: HttpRequest, gateway: Data<Gateway>) -> HttpResponse {
    answer(&request, |context| async move {
        Ok(value_response(
            200,
            gateway.capability().clone(),
            context.negotiated,
        ))
    })
    .await
}

async fn read(
    request: HttpRequest,
    gateway: Data<Gateway>,
    path: Path<(String, String)>,
) -> HttpResponse {
    let subset = read_subset(request.query_string());
    answer(&request, |context| async move {
        let (res_type, id) = instance(path.into_inner())?;
        let subset = subset?;
        let stored = gateway.read(&res_type, &id).await?;
        if subset == Subset::Full {
            return Ok(stored_response_offloaded(200, &stored, context.negotiated).await);
        }
        let mut cut = (*stored).clone();
        cut.body = stored
            .body
            .as_deref()
            .and_then(|body| serde_json::from_slice(body).ok())
            .map(|resource| Bytes::from(subset.apply(resource).to_string()));
        Ok(stored_response_offloaded(200, &cut, context.negotiated).await)
    })
    .await
}

async fn vread(
    request: HttpRequest,
    gateway: Data<Gateway>,
    path: Path<(String, String, String)>,
) -> HttpResponse {
    answer(&request, |context| async move {
        let (res_type, id, version) = path.into_inner();
        resource_type(&res_type)?;
        check_id(&id, "url")?;
        let version = version.parse().map_err(|_| {
            GatewayError::invalid(format!("'{version}' is not a version number"), "url")
        })?;
        let stored = gateway.vread(&res_type, &id, version).await?;
        Ok(stored_response_offloaded(200, &stored, context.negotiated).await)
    })
    .await
}

/// `_summary` / `_elements` on a read: the part of the resource to return.
fn read_subset(query: &str) -> Result<Subset, GatewayError> {
    let mut summary = Summary::False;
    let mut elements = Vec::new();
    for (name, value) in form_urlencoded::parse(query.as_bytes()) {
        match name.as_ref() {
            "_summary" => {
                summary = match Summary::parse(&value) {
                    Some(Summary::Count) | None => {
                        let reason = format!("'{value}' is not true, text, data or false");
                        return Err(GatewayError::invalid(
                            format!("_summary: {reason} on a read"),
                            "_summary",
                        ));
                    }
                    Some(summary) => summary,
                }
            }
            "_elements" => elements = element_list(&value),
            _ => {}
        }
    }
    Ok(summary.subset(&elements))
}

/// Parses a resource body in the request's content type (large ones off the HTTP worker).
async fn parse_resource(
    request: &HttpRequest,
    body: Bytes,
    gateway: &Gateway,
) -> Result<Resource, GatewayError> {
    let format = request_format(header_text(request, header::CONTENT_TYPE), &body)?;
    let limits = gateway.parse_limits();
    off_worker(body.len(), move || {
        Ok(Resource::parse(&body, format, &limits)?)
    })
    .await
}

/// Parses a JSON Patch body (the only patch format served).
fn parse_patch(
    request: &HttpRequest,
    body: &[u8],
    gateway: &Gateway,
) -> Result<Value, GatewayError> {
    let content_type = header_text(request, header::CONTENT_TYPE).unwrap_or("");
    if !content_type
        .trim_start()
        .starts_with("application/json-patch+json")
    {
        return Err(GatewayError::UnsupportedMediaType(format!(
            "{content_type} (PATCH takes application/json-patch+json)"
        )));
    }
    Ok(parse_json_value(body, &gateway.parse_limits())?)
}

/// Builds the write interaction for `method` on `target` from the body and headers.
async fn write_request(
    request: &HttpRequest,
    payload: Payload,
    gateway: &Gateway,
    target: Target,
) -> Result<EntryRequest, GatewayError> {
    let method = match *request.method() {
        actix_web::http::Method::POST => Method::Post,
        actix_web::http::Method::PUT => Method::Put,
        actix_web::http::Method::PATCH => Method::Patch,
        _ => Method::Delete,
    };
    let mut entry = EntryRequest::new(method, target);
    if let Some(tag) = header_text(request, header::IF_MATCH) {
        entry.if_match = Some(parse_version_tag(tag, "header If-Match")?);
    }
    entry.if_none_exist =
        header_text(request, header::HeaderName::from_static("if-none-exist")).map(str::to_owned);
    if method != Method::Delete {
        let body = read_body(request, payload, gateway).await?;
        match method {
            Method::Patch => entry.patch = Some(parse_patch(request, &body, gateway)?),
            _ => entry.resource = Some(parse_resource(request, body, gateway).await?),
        }
    }
    Ok(entry)
}

async fn create(
    request: HttpRequest,
    gateway: Data<Gateway>,
    path: Path<String>,
    payload: Payload,
) -> HttpResponse {
    let req = request.clone();
    answer(&request, |context| async move {
        let res_type = resource_type(&path)?.to_owned();
        let entry = write_request(&req, payload, &gateway, Target::Type(res_type)).await?;
        let outcome = gateway.interact(entry).await?;
        Ok(write_response(
            &outcome,
            gateway.base_url(),
            context.prefer.return_,
            context.negotiated,
        ))
    })
    .await
}

async fn instance_write(
    request: HttpRequest,
    gateway: Data<Gateway>,
    path: Path<(String, String)>,
    payload: Payload,
) -> HttpResponse {
    let req = request.clone();
    answer(&request, |context| async move {
        let (res_type, id) = instance(path.into_inner())?;
        let target = Target::Instance(res_type, id);
        let entry = write_request(&req, payload, &gateway, target).await?;
        let outcome = gateway.interact(entry).await?;
        Ok(write_response(
            &outcome,
            gateway.base_url(),
            context.prefer.return_,
            context.negotiated,
        ))
    })
    .await
}

async fn conditional_write(
    request: HttpRequest,
    gateway: Data<Gateway>,
    path: Path<String>,
    payload: Payload,
) -> HttpResponse {
    let req = request.clone();
    answer(&request, |context| async move {
        let res_type = resource_type(&path)?.to_owned();
        let query = req.query_string().to_owned();
        if query.is_empty() {
            return Err(GatewayError::MethodNotAllowed(format!(
                "{} on {res_type} without search criteria",
                req.method()
            )));
        }
        let target = Target::Conditional(res_type, query);
        let entry = write_request(&req, payload, &gateway, target).await?;
        let outcome = gateway.interact(entry).await?;
        Ok(write_response(
            &outcome,
            gateway.base_url(),
            context.prefer.return_,
            context.negotiated,
        ))
    })
    .await
}

async fn bundle(request: HttpRequest, gateway: Data<Gateway>, payload: Payload) -> HttpResponse {
    let req = request.clone();
    answer(&request, |context| async move {
        let body = read_body(&req, payload, &gateway).await?;
        let format = request_format(header_text(&req, header::CONTENT_TYPE), &body)?;
        let bundle = match format {
            Format::Json => {
                let limits = gateway.parse_limits();
                off_worker(body.len(), move || parse_json_bundle(&body, &limits)).await?
            }
            Format::Xml => parse_resource(&req, body, &gateway).await?,
        };
        let response = gateway
            .process_bundle(bundle, context.prefer.return_)
            .await?;
        Ok(value_response(200, response, context.negotiated))
    })
    .await
}

async fn history_system(request: HttpRequest, gateway: Data<Gateway>) -> HttpResponse {
    answer(&request, |context| async move {
        let params = history_params(&context, &gateway, "_history".into())?;
        let bundle = gateway.history(HistoryScope::System, params).await?;
        Ok(value_response(200, bundle, context.negotiated))
    })
    .await
}

/// `GET [base]/[type]?…`: a search.
async fn search_get(
    request: HttpRequest,
    gateway: Data<Gateway>,
    path: Path<String>,
) -> HttpResponse {
    answer(&request, |context| async move {
        let res_type = resource_type(&path)?.to_owned();
        let bundle = gateway
            .search(Some(&res_type), &context.params, context.prefer.lenient)
            .await?;
        Ok(value_response(200, bundle, context.negotiated))
    })
    .await
}

/// `POST [base]/[type]/_search` with a form body (its parameters join the URL's).
async fn search_post(
    request: HttpRequest,
    gateway: Data<Gateway>,
    path: Path<String>,
    payload: Payload,
) -> HttpResponse {
    let http_request = request.clone();
    answer(&request, |context| async move {
        let res_type = resource_type(&path)?.to_owned();
        let content_type = header_text(&http_request, header::CONTENT_TYPE).unwrap_or_default();
        if !content_type.starts_with("application/x-www-form-urlencoded") {
            return Err(GatewayError::UnsupportedMediaType(format!(
                "{content_type} (POST _search takes application/x-www-form-urlencoded)"
            )));
        }
        let body = read_body(&http_request, payload, &gateway).await?;
        let mut params = context.params.clone();
        params.extend(form_urlencoded::parse(&body).into_owned());
        let bundle = gateway
            .search(Some(&res_type), &params, context.prefer.lenient)
            .await?;
        Ok(value_response(200, bundle, context.negotiated))
    })
    .await
}

/// `GET [base]/Patient/{id}/$everything`.
async fn everything(
    request: HttpRequest,
    gateway: Data<Gateway>,
    path: Path<(String, String)>,
) -> HttpResponse {
    answer(&request, |context| async move {
        let (res_type, id) = instance(path.into_inner())?;
        if res_type != "Patient" {
            return Err(GatewayError::NotFound(format!(
                "{res_type}/{id}/$everything (only Patient has it)"
            )));
        }
        let bundle = gateway.everything(&id, &context.params).await?;
        Ok(value_response(200, bundle, context.negotiated))
    })
    .await
}

/// `GET [base]/Patient/{id}/{type}?…`: a compartment search.
async fn compartment_search(
    request: HttpRequest,
    gateway: Data<Gateway>,
    path: Path<(String, String, String)>,
) -> HttpResponse {
    answer(&request, |context| async move {
        let (owner_type, id, res_type) = path.into_inner();
        let (owner_type, id) = instance((owner_type, id))?;
        if owner_type != "Patient" {
            return Err(GatewayError::NotFound(format!(
                "{owner_type}/{id}/{res_type} (only the Patient compartment is served)"
            )));
        }
        let res_type = resource_type(&res_type)?.to_owned();
        let bundle = gateway
            .compartment_search(&id, &res_type, &context.params, context.prefer.lenient)
            .await?;
        Ok(value_response(200, bundle, context.negotiated))
    })
    .await
}

/// `GET [base]?_getpages=…&_offset=…`: a further page of a search.
async fn search_pages(request: HttpRequest, gateway: Data<Gateway>) -> HttpResponse {
    answer(&request, |context| async move {
        let bundle = gateway
            .search(None, &context.params, context.prefer.lenient)
            .await?;
        Ok(value_response(200, bundle, context.negotiated))
    })
    .await
}

async fn history_type(
    request: HttpRequest,
    gateway: Data<Gateway>,
    path: Path<String>,
) -> HttpResponse {
    answer(&request, |context| async move {
        let res_type = resource_type(&path)?.to_owned();
        let params = history_params(&context, &gateway, format!("{res_type}/_history"))?;
        let bundle = gateway
            .history(HistoryScope::Type(res_type), params)
            .await?;
        Ok(value_response(200, bundle, context.negotiated))
    })
    .await
}

async fn history_instance(
    request: HttpRequest,
    gateway: Data<Gateway>,
    path: Path<(String, String)>,
) -> HttpResponse {
    answer(&request, |context| async move {
        let (res_type, id) = instance(path.into_inner())?;
        let params = history_params(&context, &gateway, format!("{res_type}/{id}/_history"))?;
        let bundle = gateway
            .history(HistoryScope::Instance(res_type, id), params)
            .await?;
        Ok(value_response(200, bundle, context.negotiated))
    })
    .await
}

/// Validates history parameters: `_count`, `_since`, and our paging `_snapshot`/`_offset`.
fn history_params(
    context: &Context,
    gateway: &Gateway,
    path: String,
) -> Result<HistoryParams, GatewayError> {
    let limits = &gateway.config().limits;
    let mut query = HistoryQuery {
        since: None,
        count: limits.default_page_size,
        offset: 0,
        snapshot: None,
    };
    for (name, value) in &context.params {
        let number = |what: &str| -> Result<u64, GatewayError> {
            value.parse().map_err(|_| {
                GatewayError::invalid(
                    format!("{what} '{value}' is not a non-negative whole number"),
                    name.clone(),
                )
            })
        };
        match name.as_str() {
            "_count" => query.count = (number("_count")? as usize).min(limits.max_page_size),
            "_offset" => query.offset = number("_offset")? as usize,
            "_snapshot" => query.snapshot = Some(number("_snapshot")? as i64),
            "_since" => {
                query.since = Some(crate::clock::Instant::parse_fhir(value).ok_or_else(|| {
                    GatewayError::invalid(
                        format!("_since '{value}' is not an instant with a time zone"),
                        "_since",
                    )
                })?)
            }
            "_format" | "_pretty" => {}
            other if context.prefer.lenient => tracing::debug!(parameter = other, "ignored"),
            other => {
                return Err(GatewayError::UnknownParameter {
                    name: other.to_owned(),
                    reason: "history takes _count, _since, _format and _pretty".into(),
                })
            }
        }
    }
    Ok(HistoryParams { query, path })
}
