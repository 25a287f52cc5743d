package api

import (
	_ "embed"
	"net/http"
)

// openapiJSON is the OpenAPI 3 document of the whole REST API. It is
// written by hand, next to the handlers it describes, and
// TestOpenAPIDescribesEveryRoute fails when it and the router disagree.
//
//go:embed openapi.json
var openapiJSON []byte

// serveOpenAPI answers GET /api/openapi.json with the embedded document.
// It needs no token: the document holds nothing that the source does not.
func serveOpenAPI(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	// A failed write means the client has gone; there is no one to tell.
	_, _ = w.Write(openapiJSON)
}
