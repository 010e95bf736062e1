package tracing

import (
	"slices"

	"go.opentelemetry.io/otel/attribute"
)

// spanResource is the resource a span came from (service.version, host.name,
// service.instance.id…), as the store keeps it. A process's resource is the same on each
// of its spans, a dozen attributes or more, so the store holds one copy for all the spans
// that share it, counts its bytes once, and forgets it when the last of them goes.
type spanResource struct {
	set  attribute.Set
	size int64 // counted in the store's bytes while refs > 0
	refs int   // stored spans holding it
}

// resourceOverhead is what a held resource costs beyond its attributes: the struct, the
// set's header and the store's map entry.
const resourceOverhead = 128

// resourceOf is a span's resource before the store holds it: the span's own copy, until
// holdResource swaps in the shared one.
func resourceOf(set attribute.Set) *spanResource { return &spanResource{set: set} }

// value is the resource's attribute k, if it has one.
func (sr *spanResource) value(k attribute.Key) (attribute.Value, bool) {
	if sr == nil {
		return attribute.Value{}, false
	}
	return sr.set.Value(k)
}

// holdResource makes r share the store's copy of its resource, counting the resource's
// bytes when r is the first span holding it. Resources are found by their hash, then
// compared, since different sets may share a hash. Callers hold s.mu.
func (s *Store) holdResource(r *record) {
	if r.resource == nil {
		return
	}
	key := r.resource.set.Equivalent()
	bucket := s.resources[key]
	i := slices.IndexFunc(bucket, func(held *spanResource) bool { return held.set.Equals(&r.resource.set) })
	if i < 0 {
		r.resource.size = resourceOverhead + attrsSize(r.resource.set.ToSlice())
		s.resources[key] = append(bucket, r.resource)
		s.bytes += r.resource.size
	} else {
		r.resource = bucket[i]
	}
	r.resource.refs++
}

// releaseResource undoes holdResource for a span leaving the store. Callers hold s.mu.
func (s *Store) releaseResource(r *record) {
	sr := r.resource
	if sr == nil {
		return
	}
	if sr.refs--; sr.refs > 0 {
		return
	}
	key := sr.set.Equivalent()
	if bucket := slices.DeleteFunc(s.resources[key], func(held *spanResource) bool { return held == sr }); len(bucket) > 0 {
		s.resources[key] = bucket
	} else {
		delete(s.resources, key)
	}
	s.bytes -= sr.size
}
