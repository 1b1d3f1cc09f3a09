//! `session-summary`: what a shopping session looked like before its first purchase,
//! and whether there was one — a window process function (world `window-process`) for
//! session windows over click streams keyed by user.
//!
//! Events are JSON objects with an `action` (`view`, `cart` or `buy`), a `product` and
//! a `price`. For each session, over its events before the first `buy` (all of them if
//! none): `views`, `carts`, `products` (distinct products viewed or carted), `minutes`
//! (from the first event to the first purchase, or to the last event), `mean_price`
//! (of the viewed products, 0 without views); and `bought` (1 if the session has a
//! `buy`, else 0):
//!
//! `{"key":"u007","window_start":..,"window_end":..,"firing":"on-time","firing_index":0,
//! "views":6,"carts":1,"products":4,"minutes":7.5,"mean_price":31.2,"bought":1}`
//!
//! These are the features and the label an online model learns purchase from (see
//! `examples/user-behaviour`). An event that is not such an object is skipped and
//! counted in the plugin's `skipped` counter.

use std::collections::HashSet;

use serde::{Deserialize, Serialize};
use weir_sdk::{
    Error, Event, Output, Settings, StateRegistry, WindowContext, WindowInfo, WindowProcessor,
};

#[derive(Deserialize)]
struct Click<'a> {
    action: &'a str,
    product: Option<&'a str>,
    price: Option<f64>,
}

#[derive(Serialize)]
struct Summary<'a> {
    #[serde(flatten)]
    window: WindowInfo<'a>,
    views: u32,
    carts: u32,
    products: usize,
    minutes: f64,
    mean_price: f64,
    bought: u8,
}

struct SessionSummary;

impl WindowProcessor for SessionSummary {
    fn init(_settings: Settings, _states: &mut StateRegistry<'_>) -> Result<Self, Error> {
        Ok(SessionSummary)
    }

    fn process(
        &mut self,
        window: &WindowInfo<'_>,
        events: &[Event<'_>],
        _ctx: &mut WindowContext<'_>,
        out: &mut Output,
    ) -> Result<(), Error> {
        // The host hands a window's events in timestamp order.
        let (mut views, mut carts, mut price_sum, mut skipped) = (0_u32, 0_u32, 0.0, 0_u64);
        let mut products = HashSet::new();
        let mut first = None;
        let mut until = None;
        let mut bought = 0;
        for event in events {
            let Ok(click) = serde_json::from_slice::<Click<'_>>(event.value) else {
                skipped += 1;
                continue;
            };
            first.get_or_insert(event.timestamp);
            if bought == 1 {
                continue;
            }
            until = Some(event.timestamp);
            match click.action {
                "buy" => bought = 1,
                "view" => {
                    views += 1;
                    price_sum += click.price.unwrap_or(0.0);
                }
                "cart" => carts += 1,
                _ => {}
            }
            if click.action != "buy"
                && let Some(product) = click.product
            {
                products.insert(product);
            }
        }
        if skipped > 0 {
            weir_sdk::metrics::counter_add("skipped", skipped);
        }
        let (Some(first), Some(until)) = (first, until) else {
            return Ok(());
        };
        let summary = Summary {
            window: *window,
            views,
            carts,
            products: products.len(),
            minutes: (until - first) as f64 / 60_000.0,
            mean_price: if views > 0 {
                price_sum / f64::from(views)
            } else {
                0.0
            },
            bought,
        };
        out.emit_window_json(window, &summary)
    }
}

weir_sdk::export_window_processor!(SessionSummary);
