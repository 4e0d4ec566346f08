"""The web side of 绿图: the only package that knows Flask and Folium."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Attach the store, error handlers and blueprints to an app built by `create_app`."""
    from webmap import (
        api,
        auth,
        errors,
        indicator_builder,
        indicators,
        ledger,
        ledger_pages,
        maps,
        measures,
        pages,
        plan_links,
        plan_review,
        plan_sources,
        region_sources,
        reports,
        search,
        store,
        vendor,
    )

    maps.basemap_layers(app.config)  # a basemap misconfiguration fails at start, not per page

    store.init_app(app)
    errors.init_app(app)
    auth.init_app(app)
    app.register_blueprint(vendor.bp)
    app.register_blueprint(pages.bp)
    app.register_blueprint(search.bp)
    app.register_blueprint(measures.bp)
    app.register_blueprint(indicators.bp)
    app.register_blueprint(api.bp)
    reports.init_app(app)
    ledger.init_app(app)
    ledger_pages.init_app(app)
    region_sources.init_app(app)
    plan_sources.init_app(app)
    plan_links.init_app(app)
    plan_review.init_app(app)
    indicator_builder.init_app(app)
