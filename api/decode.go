package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"reflect"
	"strings"
)

// maxBodyBytes bounds a request body. The largest legitimate one, a room
// with a 2000-character description, is well under 10 KiB.
const maxBodyBytes = 64 << 10

var (
	errBodyTooLarge = newAPIError(http.StatusRequestEntityTooLarge, codeBodyTooLarge, "the request body is over 64 KiB")
	errMediaType    = newAPIError(http.StatusUnsupportedMediaType, codeUnsupportedMediaType, "the request body must be application/json")
)

// decodeJSON reads exactly one JSON object from the request body into dst,
// strictly: unknown fields, wrong types and trailing data are all refused,
// so that a client's mistake is reported instead of silently ignored.
func decodeJSON(w http.ResponseWriter, r *http.Request, dst any) error {
	return decode(w, r, dst, false)
}

// decodeOptionalJSON is decodeJSON for endpoints whose body may be left
// out: no body at all leaves dst as it is. A body that is sent is held to
// the same rules, so a mistyped field is still refused.
func decodeOptionalJSON(w http.ResponseWriter, r *http.Request, dst any) error {
	return decode(w, r, dst, true)
}

func decode(w http.ResponseWriter, r *http.Request, dst any, optional bool) error {
	if optional && r.ContentLength == 0 {
		return nil
	}
	if r.ContentLength > maxBodyBytes {
		// Refuse before reading a byte of it.
		return errBodyTooLarge
	}
	// ContentLength is -1 for a chunked body, so anything but 0 may carry
	// one and must say what it is.
	if r.ContentLength != 0 && !isJSON(r.Header.Get("Content-Type")) {
		return errMediaType
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBodyBytes))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		if optional && errors.Is(err, io.EOF) {
			// A chunked body that turned out empty (or only spaces).
			return nil
		}
		return decodeError(err)
	}
	// A second value, or garbage, after the object: the client sent
	// something other than what it meant.
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		if tooLarge(err) {
			return errBodyTooLarge
		}
		return newAPIError(http.StatusBadRequest, codeInvalidJSON, "the request body must hold exactly one JSON value")
	}
	return nil
}

// isJSON reports whether a Content-Type header names JSON in UTF-8, the
// only encoding JSON may use between systems (RFC 8259 §8.1).
func isJSON(contentType string) bool {
	mt, params, err := mime.ParseMediaType(contentType)
	if err != nil || mt != "application/json" {
		return false
	}
	cs, ok := params["charset"]
	return !ok || strings.EqualFold(cs, "utf-8")
}

func tooLarge(err error) bool {
	var mbe *http.MaxBytesError
	return errors.As(err, &mbe)
}

// decodeError turns an encoding/json error into the API's error.
func decodeError(err error) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case tooLarge(err):
		return errBodyTooLarge
	case errors.Is(err, io.EOF):
		return newAPIError(http.StatusBadRequest, codeInvalidJSON, "the request body is empty; it must be a JSON object")
	case errors.As(err, &syn), errors.Is(err, io.ErrUnexpectedEOF):
		return &apiError{status: http.StatusBadRequest, code: codeInvalidJSON, message: "the request body is not well-formed JSON", cause: err}
	case errors.As(err, &typ):
		if typ.Field == "" {
			return &apiError{status: http.StatusBadRequest, code: codeInvalidRequest, message: "the request body must be a JSON object", cause: err}
		}
		msg := fmt.Sprintf("field %q must be %s, not %s", typ.Field, jsonKind(typ.Type), typ.Value)
		return &apiError{status: http.StatusBadRequest, code: codeInvalidRequest, message: msg, cause: err}
	}
	// encoding/json has no error type for an unknown field, only this text
	// (stable since Go 1.10).
	if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		return &apiError{status: http.StatusBadRequest, code: codeInvalidRequest, message: "unknown field " + name, cause: err}
	}
	return &apiError{status: http.StatusBadRequest, code: codeInvalidJSON, message: "the request body is not well-formed JSON", cause: err}
}

// jsonKind names the JSON type that holds a Go type, for error messages
// that a client author can act on.
func jsonKind(t reflect.Type) string {
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "a boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64,
		reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice, reflect.Array:
		return "an array"
	default:
		return "an object"
	}
}
