"""Errors become responses in one place, with one JSON shape for data requests:
{"error": {"status": 404, "code": "FeatureNotFound", "message": "..."}}."""

from __future__ import annotations

from flask import Flask, Response, jsonify, render_template, request
from werkzeug.exceptions import HTTPException

from geo.errors import ConflictError, FeatureNotFound, LayerNotFound, LutuError, QueryError


def in_api() -> bool:
    return request.path == "/ogc" or request.path.startswith("/ogc/")


def wants_json() -> bool:
    """Whether errors are answered in JSON: data requests, the APIs, JSON asked for, or a script
    authenticating with an API token."""
    return (
        request.path.startswith("/map/data")
        or in_api()  # the APIs always answer in JSON
        or request.accept_mimetypes.best == "application/json"
        or request.headers.get("Authorization", "").lower().startswith("bearer ")
    )


# What an HTTP error means, in Chinese, before the English words of one that says no more.
HTTP_ZH = {
    400: "请求有误",
    401: "请先登录",
    403: "无权访问",
    404: "找不到页面或数据",
    405: "不支持此请求方式",
    409: "冲突",
    413: "上传的文件过大",
    429: "请求过多，请稍后再试",
    500: "服务器出错",
}


def error_response(status: int, code: str, message: str) -> tuple[Response | str, int]:
    if wants_json():
        return jsonify({"error": {"status": status, "code": code, "message": message}}), status
    return render_template("error.html", status=status, code=code, message=message), status


def init_app(app: Flask) -> None:
    @app.errorhandler(LayerNotFound)
    @app.errorhandler(FeatureNotFound)
    def not_found(exc: LutuError) -> tuple[Response | str, int]:
        return error_response(404, type(exc).__name__, str(exc))

    @app.errorhandler(QueryError)
    def bad_query(exc: QueryError) -> tuple[Response | str, int]:
        return error_response(400, "InvalidParameterValue", str(exc))

    @app.errorhandler(ConflictError)
    def conflict(exc: ConflictError) -> tuple[Response | str, int]:
        # Someone changed the feature since this edit was read: nothing was written; the
        # message names the feature, so the editor reloads it and decides again.
        return error_response(409, "Conflict", str(exc))

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> tuple[Response | str, int]:
        message = exc.description or ""
        if message == type(exc).description and exc.code in HTTP_ZH:
            message = f"{HTTP_ZH[exc.code]}。{message}"  # werkzeug's own words are English only
        return error_response(exc.code or 500, type(exc).__name__, message)

    @app.errorhandler(Exception)
    def unexpected(exc: Exception) -> tuple[Response | str, int]:
        if not in_api():
            raise exc  # elsewhere Flask's own handling stands
        app.logger.exception("unexpected error under /ogc")
        return error_response(500, "InternalServerError", "unexpected server error")
