package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
)

// conformance sends requests to a real server and checks each answer
// against the document: its status is one the operation lists, its body
// matches that response's schema with no field the schema does not name,
// and an error's code is one of the response's x-error-codes.
type conformance struct {
	e   *testEnv
	doc *openapi3.T
}

func newConformance(t *testing.T) *conformance {
	t.Helper()
	doc, err := openapi3.NewLoader().LoadFromData(openapiJSON)
	if err != nil {
		t.Fatalf("load api/openapi.json: %v", err)
	}
	return &conformance{e: newTestEnv(t, nil), doc: doc}
}

// do sends method path (which fills the document's template) and checks
// the answer, then returns it.
func (c *conformance) do(t *testing.T, method, template, path, token, body string) (*http.Response, string) {
	t.Helper()
	resp, got := c.e.do(t, method, path, token, body)
	where := fmt.Sprintf("%s %s answered %d", method, path, resp.StatusCode)
	item := c.doc.Paths.Find(template)
	if item == nil || item.GetOperation(method) == nil {
		t.Fatalf("%s: api/openapi.json has no operation %s %s", where, method, template)
	}
	ref := item.GetOperation(method).Responses.Status(resp.StatusCode)
	if ref == nil || ref.Value == nil {
		t.Errorf("%s, which api/openapi.json does not list for %s %s; body %s", where, method, template, got)
		return resp, got
	}
	mt := ref.Value.Content.Get("application/json")
	if mt == nil {
		// A documented body of another type (an export's zip) is checked
		// by its own tests; here only its type must be the documented one.
		ct, _, _ := strings.Cut(resp.Header.Get("Content-Type"), ";")
		if ct != "" && ct != "application/json" && ref.Value.Content.Get(ct) != nil {
			return resp, got
		}
		if strings.TrimSpace(got) != "" {
			t.Errorf("%s with a body, but the document gives that response none: %s", where, got)
		}
		return resp, got
	}
	var v any
	if err := json.Unmarshal([]byte(got), &v); err != nil {
		t.Fatalf("%s: body is not JSON: %v; %s", where, err, got)
	}
	if err := mt.Schema.Value.VisitJSON(v, openapi3.MultiErrors()); err != nil {
		t.Errorf("%s: body does not match the documented schema: %v\nbody: %s", where, err, got)
	}
	for _, f := range undocumentedFields(mt.Schema.Value, v, "") {
		t.Errorf("%s: field %s is in the body but not in the documented schema; add it to api/openapi.json and docs/api.md", where, f)
	}
	if resp.StatusCode >= 400 {
		var e errorBody
		_ = json.Unmarshal([]byte(got), &e)
		codes, _ := ref.Value.Extensions["x-error-codes"].([]any)
		if !slices.Contains(codes, any(e.Error.Code)) {
			t.Errorf("%s with code %q, which is not in that response's x-error-codes %v", where, e.Error.Code, codes)
		}
	}
	return resp, got
}

// undocumentedFields returns the paths of the object fields in v that s
// does not name. allOf is followed, as RoomDetail extends Room with it.
func undocumentedFields(s *openapi3.Schema, v any, at string) []string {
	if s == nil {
		return nil
	}
	var out []string
	switch v := v.(type) {
	case map[string]any:
		props := map[string]*openapi3.Schema{}
		var collect func(*openapi3.Schema)
		collect = func(s *openapi3.Schema) {
			for name, p := range s.Properties {
				props[name] = p.Value
			}
			for _, sub := range s.AllOf {
				collect(sub.Value)
			}
		}
		collect(s)
		if len(props) == 0 {
			// A free-form object (the document itself): nothing to check.
			return nil
		}
		for name, fv := range v {
			p, ok := props[name]
			if !ok {
				out = append(out, at+"."+name)
				continue
			}
			out = append(out, undocumentedFields(p, fv, at+"."+name)...)
		}
	case []any:
		if s.Items != nil {
			for i, iv := range v {
				out = append(out, undocumentedFields(s.Items.Value, iv, fmt.Sprintf("%s[%d]", at, i))...)
			}
		}
	}
	slices.Sort(out)
	return out
}

// TestOpenAPIMatchesResponses walks the API through its routes, good
// requests and bad, and checks every answer against the document.
func TestOpenAPIMatchesResponses(t *testing.T) {
	c := newConformance(t)
	const (
		room   = "/api/v1/rooms/{id}"
		user   = room + "/participants/{user_id}"
		nobody = "usr_aaaaaaaaaaaaaaaaaaaaaaaaaa"
	)

	c.do(t, http.MethodGet, "/healthz", "/healthz", "", "")
	c.do(t, http.MethodGet, "/readyz", "/readyz", "", "")
	c.do(t, http.MethodGet, "/api/openapi.json", "/api/openapi.json", "", "")

	const signIn = "/api/v1/auth/dev"
	resp, body := c.do(t, http.MethodPost, signIn, signIn, "", `{"display_name":"Ann"}`)
	var ann signInResponse
	if err := json.Unmarshal([]byte(body), &ann); err != nil || resp.StatusCode != http.StatusCreated {
		t.Fatalf("sign in: %d %s", resp.StatusCode, body)
	}
	bob, _ := c.e.signIn(t, "Bob")
	c.do(t, http.MethodPost, signIn, signIn, "", `{"display_name":`)
	c.do(t, http.MethodPost, signIn, signIn, "", `{"display_name":7}`)
	c.do(t, http.MethodPost, signIn, signIn, "", `{"display_name":""}`)
	c.do(t, http.MethodPost, signIn, signIn, "", `{"display_name":"`+strings.Repeat("a", maxBodyBytes)+`"}`)
	c.do(t, http.MethodGet, "/api/v1/me", "/api/v1/me", ann.Token, "")
	c.do(t, http.MethodGet, "/api/v1/me", "/api/v1/me", "", "")
	c.do(t, http.MethodGet, "/api/v1/me", "/api/v1/me", "forged", "")
	c.do(t, http.MethodGet, "/api/v1/me/export", "/api/v1/me/export", ann.Token, "")
	c.do(t, http.MethodGet, "/api/v1/me/export", "/api/v1/me/export", "", "")

	const rooms = "/api/v1/rooms"
	resp, body = c.do(t, http.MethodPost, rooms, rooms, ann.Token, `{"title":"Hiring in 2027","description":"Open Q&A"}`)
	var r roomOut
	if err := json.Unmarshal([]byte(body), &r); err != nil || resp.StatusCode != http.StatusCreated {
		t.Fatalf("create room: %d %s", resp.StatusCode, body)
	}
	id := string(r.ID)
	c.do(t, http.MethodPost, rooms, rooms, ann.Token, `{"title":""}`)
	c.do(t, http.MethodPost, rooms, rooms, ann.Token, `{"title":"a","colour":"red"}`)
	c.do(t, http.MethodGet, rooms, rooms, bob, "")
	c.do(t, http.MethodGet, rooms, rooms+"?limit=1", bob, "")
	c.do(t, http.MethodGet, rooms, rooms+"?limit=many", bob, "")
	c.do(t, http.MethodGet, rooms, rooms+"?limit=0", bob, "")
	c.do(t, http.MethodGet, rooms, rooms+"?cursor=forged", bob, "")

	c.do(t, http.MethodGet, room, rooms+"/"+id, bob, "")
	c.do(t, http.MethodGet, room, rooms+"/rm_nope", bob, "")
	c.do(t, http.MethodGet, room+"/hands", rooms+"/"+id+"/hands", bob, "")

	// Nobody has joined over signaling, so every action is refused the
	// same way; the stage's own refusals are tested in stage_test.go.
	for _, rt := range stageRoutes {
		tmpl := room + rt.path
		path := rooms + "/" + id + strings.ReplaceAll(rt.path, "{user_id}", nobody)
		body := ""
		if rt.method == http.MethodPut {
			body = `{"enabled":false}`
		}
		c.do(t, rt.method, tmpl, path, bob, body)
		c.do(t, rt.method, tmpl, strings.Replace(path, id, "rm_nope", 1), bob, body)
		c.do(t, rt.method, tmpl, path, "", body)
	}
	c.do(t, http.MethodPut, room+"/hands", rooms+"/"+id+"/hands", bob, `{}`)
	c.do(t, http.MethodPost, room+"/hand", rooms+"/"+id+"/hand", bob, `{"why":1}`)
	c.do(t, http.MethodPost, user+"/remove", rooms+"/"+id+"/participants/"+nobody+"/remove", bob, `{"block":true}`)

	c.do(t, http.MethodPost, room+"/end", rooms+"/"+id+"/end", bob, "")
	c.do(t, http.MethodPost, room+"/end", rooms+"/"+id+"/end", ann.Token, "")
	c.do(t, http.MethodPost, room+"/end", rooms+"/"+id+"/end", ann.Token, "")
	c.do(t, http.MethodGet, room, rooms+"/"+id, bob, "")
	c.do(t, http.MethodGet, room+"/hands", rooms+"/"+id+"/hands", bob, "")
	c.do(t, http.MethodPost, room+"/hand", rooms+"/"+id+"/hand", bob, "")
}
