// Package openapitest checks a marketing server against its OpenAPI 3 document. It exists
// for the tests of the two documented APIs: marketing/edge against docs/api/merchant.yaml
// and marketing/admin against docs/api/admin.yaml. Nothing outside those tests imports it.
//
// It reads the part of a document the checks need (Document), resolves local $refs, maps a
// request path to the documented route it matches, and records every answer a test saw
// (Recorder) so that, once the whole suite has run, Recorder.Check can tell whether each
// observed status and content type is documented, each JSON body conforms to its schema,
// and each operation was seen succeeding. Which routes a server registers, and which of
// them are open, stay with each package's tests: they are that package's policy.
//
// The JSON-schema check (Document.Conforms) is deliberately small: required properties,
// the declared type, string enums, items and allOf. It is not a validator for other uses.
//
// Concurrency: a Document is read-only once loaded and safe to share; a Recorder is safe
// for concurrent use.
package openapitest
