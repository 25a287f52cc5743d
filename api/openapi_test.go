package api

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/go-chi/chi/v5"

	"github.com/parley-audio/parley/rooms"
)

// withEveryPart sets every optional part of Params, so that the router
// mounts every route it can. A new optional part that mounts routes must
// be set here too, or TestOpenAPIDescribesEveryRoute reports its routes as
// described but not mounted.
func withEveryPart(p *Params) {
	p.DevSignIn = true
	stub := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusTeapot) })
	p.Signal = stub
	p.Metrics = stub
	p.Web = stub
	p.Relay = stub
	p.Nodes = stubNodes{}
	if p.Export == nil {
		p.Export = exporterFunc(func(context.Context, rooms.UserID, io.Writer) error { return nil })
	}
}

// exporterFunc is an Exporter made of a function.
type exporterFunc func(ctx context.Context, user rooms.UserID, w io.Writer) error

func (f exporterFunc) Export(ctx context.Context, user rooms.UserID, w io.Writer) error {
	return f(ctx, user, w)
}

type stubNodes struct{}

func (stubNodes) Nodes(context.Context) ([]rooms.Node, error) { return nil, nil }

// oaDoc is the part of the OpenAPI document that the tests below read.
// kin-openapi checks the rest.
type oaDoc struct {
	OpenAPI string `json:"openapi"`
	// Paths maps a path template to its path item, whose keys are
	// methods in lower case and a few others (parameters, summary...).
	Paths      map[string]map[string]json.RawMessage `json:"paths"`
	Components struct {
		Responses map[string]oaResponse `json:"responses"`
	} `json:"components"`
}

type oaOperation struct {
	OperationID string                `json:"operationId"`
	Tags        []string              `json:"tags"`
	Responses   map[string]oaResponse `json:"responses"`
}

type oaResponse struct {
	Ref     string `json:"$ref"`
	Content map[string]struct {
		Schema struct {
			Ref string `json:"$ref"`
		} `json:"schema"`
	} `json:"content"`
	// ErrorCodes are the codes of docs/api.md that this response may carry.
	ErrorCodes []string `json:"x-error-codes"`
}

// oaMethods are the operation keys of an OpenAPI path item.
var oaMethods = []string{"get", "put", "post", "delete", "options", "head", "patch", "trace"}

// operations returns the document's operations by "METHOD /path".
func (d *oaDoc) operations(t *testing.T) map[string]oaOperation {
	t.Helper()
	ops := map[string]oaOperation{}
	for path, item := range d.Paths {
		for key, raw := range item {
			if !slices.Contains(oaMethods, key) {
				continue
			}
			var op oaOperation
			if err := json.Unmarshal(raw, &op); err != nil {
				t.Fatalf("api/openapi.json: paths[%q].%s: %v", path, key, err)
			}
			ops[strings.ToUpper(key)+" "+path] = op
		}
	}
	return ops
}

// resolve follows a response's $ref into components/responses.
func (d *oaDoc) resolve(r oaResponse) (oaResponse, bool) {
	name, ok := strings.CutPrefix(r.Ref, "#/components/responses/")
	if r.Ref == "" {
		return r, true
	}
	if !ok {
		return oaResponse{}, false
	}
	v, ok := d.Components.Responses[name]
	return v, ok
}

func loadOpenAPI(t *testing.T) *oaDoc {
	t.Helper()
	var d oaDoc
	if err := json.Unmarshal(openapiJSON, &d); err != nil {
		t.Fatalf("api/openapi.json is not well-formed JSON: %v", err)
	}
	return &d
}

// TestOpenAPIDocumentIsValid checks the document against the OpenAPI 3.0
// specification with kin-openapi: every $ref resolves, every operation has
// responses, path parameters match their templates, examples match their
// schemas, operationIds are unique.
func TestOpenAPIDocumentIsValid(t *testing.T) {
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(openapiJSON)
	if err != nil {
		t.Fatalf("api/openapi.json does not load (a $ref that does not resolve?): %v", err)
	}
	if err := doc.Validate(t.Context()); err != nil {
		t.Fatalf("api/openapi.json is not a valid OpenAPI 3 document: %v", err)
	}
	d := loadOpenAPI(t)
	if !strings.HasPrefix(d.OpenAPI, "3.") {
		t.Errorf("api/openapi.json: openapi = %q, want 3.x", d.OpenAPI)
	}
	for key, op := range d.operations(t) {
		if op.OperationID == "" {
			t.Errorf("api/openapi.json: %s has no operationId", key)
		}
		if len(op.Tags) == 0 {
			t.Errorf("api/openapi.json: %s has no tags", key)
		}
		if len(op.Responses) == 0 {
			t.Errorf("api/openapi.json: %s has no responses", key)
		}
	}
}

// TestOpenAPIDescribesEveryRoute compares the routes the router mounts
// with the operations the document describes, both ways.
func TestOpenAPIDescribesEveryRoute(t *testing.T) {
	e := newTestEnv(t, withEveryPart)
	routes, ok := e.srv.Config.Handler.(chi.Routes)
	if !ok {
		t.Fatalf("NewHandler returned %T, not a chi router", e.srv.Config.Handler)
	}
	mounted := map[string]bool{}
	err := chi.Walk(routes, func(method, route string, _ http.Handler, _ ...func(http.Handler) http.Handler) error {
		mounted[method+" "+chiToOpenAPI(route)] = true
		return nil
	})
	if err != nil {
		t.Fatalf("chi.Walk: %v", err)
	}
	described := loadOpenAPI(t).operations(t)

	for _, key := range sortedKeys(mounted) {
		if _, ok := described[key]; !ok {
			method, path, _ := strings.Cut(key, " ")
			t.Errorf("route %s is mounted by api/router.go but api/openapi.json does not describe it: "+
				"add paths[%q].%s with an operationId, tags, its parameters, request body, responses, "+
				"and the x-error-codes of each error response (copy a similar operation), and the route to docs/api.md",
				key, path, strings.ToLower(method))
		}
	}
	for _, key := range sortedKeys(described) {
		if !mounted[key] {
			method, path, _ := strings.Cut(key, " ")
			t.Errorf("api/openapi.json describes %s (paths[%q].%s) but api/router.go does not mount it: "+
				"remove it from the document, or fix its path template (chi's {name} is OpenAPI's {name}); "+
				"if the route is mounted only when an optional Params field is set, set that field in withEveryPart (api/openapi_test.go)",
				key, path, strings.ToLower(method))
		}
	}
}

// chiParam is a chi path parameter with a regular expression, {id:[0-9]+}.
var chiParam = regexp.MustCompile(`\{([^}:]+):[^}]*\}`)

// chiToOpenAPI turns a chi route pattern into an OpenAPI path template.
// A trailing /* (a mounted handler, or a catch-all) has no OpenAPI form,
// so it stays and shows up as undescribed, with its pattern, in the
// failure message.
func chiToOpenAPI(route string) string {
	route = chiParam.ReplaceAllString(route, "{$1}")
	if len(route) > 1 {
		route = strings.TrimSuffix(route, "/")
	}
	return route
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// TestOpenAPIErrorCodes checks each operation's error responses: they
// carry the one error shape, list the codes they may answer, and those
// codes are the API's (api/*.go's code constants), under the status that
// docs/api.md gives them.
func TestOpenAPIErrorCodes(t *testing.T) {
	known := apiErrorCodes(t)
	statuses := docErrorStatuses(t)
	for code := range known {
		if len(statuses[code]) == 0 {
			t.Errorf("error code %q (api/*.go) is missing from docs/api.md's error tables", code)
		}
	}
	d := loadOpenAPI(t)
	ops := d.operations(t)
	for _, key := range sortedKeys(ops) {
		op := ops[key]
		for _, status := range sortedKeys(op.Responses) {
			n, err := strconv.Atoi(status)
			if err != nil || n < 400 {
				continue
			}
			where := fmt.Sprintf("api/openapi.json: %s, response %s", key, status)
			r, ok := d.resolve(op.Responses[status])
			if !ok {
				t.Errorf("%s: $ref %q is not in components/responses", where, op.Responses[status].Ref)
				continue
			}
			if _, ok := r.Content["application/json"]; !ok {
				// Not ours: the WebSocket library's plain-text refusals.
				continue
			}
			if got := r.Content["application/json"].Schema.Ref; got != "#/components/schemas/Error" {
				t.Errorf("%s: schema is %q, want #/components/schemas/Error", where, got)
			}
			if len(r.ErrorCodes) == 0 {
				t.Errorf("%s: no x-error-codes; list the codes (api/errors.go) it may answer", where)
			}
			for _, code := range r.ErrorCodes {
				switch {
				case !known[code]:
					t.Errorf("%s: x-error-codes has %q, which is not an error code of api/*.go", where, code)
				case !slices.Contains(statuses[code], n):
					t.Errorf("%s: x-error-codes has %q, which docs/api.md answers with status %v", where, code, statuses[code])
				}
			}
		}
	}
}

// apiErrorCodes returns the values of the package's code constants
// (codeRoomNotFound = "room_not_found"), read from the source so that a
// new code in any file is seen.
func apiErrorCodes(t *testing.T) map[string]bool {
	t.Helper()
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	codes := map[string]bool{}
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatalf("parse %s: %v", name, err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			vs, ok := n.(*ast.ValueSpec)
			if !ok {
				return true
			}
			for i, id := range vs.Names {
				if !strings.HasPrefix(id.Name, "code") || i >= len(vs.Values) {
					continue
				}
				if lit, ok := vs.Values[i].(*ast.BasicLit); ok && lit.Kind == token.STRING {
					if v, err := strconv.Unquote(lit.Value); err == nil {
						codes[v] = true
					}
				}
			}
			return true
		})
	}
	if !codes["room_not_found"] || !codes["internal"] {
		t.Fatalf("found no error codes in api/*.go (got %v); has their naming changed?", codes)
	}
	return codes
}

// docRow is a row of an error table of docs/api.md: | 404 | `room_not_found` | ...
var docRow = regexp.MustCompile("(?m)^\\|\\s*(\\d{3})\\s*\\|\\s*`([a-z_]+)`\\s*\\|")

// docErrorStatuses returns the statuses docs/api.md gives each code.
func docErrorStatuses(t *testing.T) map[string][]int {
	t.Helper()
	b, err := os.ReadFile("../docs/api.md")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]int{}
	for _, m := range docRow.FindAllSubmatch(b, -1) {
		n, _ := strconv.Atoi(string(m[1]))
		if !slices.Contains(out[string(m[2])], n) {
			out[string(m[2])] = append(out[string(m[2])], n)
		}
	}
	return out
}

// TestOpenAPIServed checks that GET /api/openapi.json serves the embedded
// document, as JSON, to anyone.
func TestOpenAPIServed(t *testing.T) {
	e := newTestEnv(t, nil)
	resp, body := e.do(t, http.MethodGet, "/api/openapi.json", "", "")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /api/openapi.json = %d %s", resp.StatusCode, body)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q, want application/json", ct)
	}
	if !bytes.Equal([]byte(body), openapiJSON) {
		t.Errorf("the served document (%d bytes) is not the embedded one (%d bytes)", len(body), len(openapiJSON))
	}
	resp, body = e.do(t, http.MethodPost, "/api/openapi.json", "", "")
	wantError(t, resp, body, http.StatusMethodNotAllowed, codeMethodNotAllowed)
}

// TestAPIDocLinksOpenAPI keeps docs/api.md pointing at the document.
func TestAPIDocLinksOpenAPI(t *testing.T) {
	b, err := os.ReadFile("../docs/api.md")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(b, []byte("/api/openapi.json")) {
		t.Error("docs/api.md does not mention /api/openapi.json")
	}
}
