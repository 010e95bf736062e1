// GatewayService: the push side of a gateway node (Entry layer). Logic calls it to reach
// connections the route table places on this node.
include "common.thrift"
namespace go gateway

// One frame (op + encoded body) for a set of connections on this node. Logic encodes the
// body once; the gateway only adds the header, so fan-out costs no re-encoding.
struct Delivery {
    1: list<string> conn_ids,
    2: i32 op,
    3: binary body,
}
struct DeliverRequest {
    1: list<Delivery> deliveries,
}
struct DeliverResponse {
    1: list<string> missing,  // connections no longer on this node
    2: list<string> dropped,  // connections closed because their send queue was full
}

struct KickRequest {
    1: string conn_id,
    2: i32 reason,            // frame.KickReason
    3: string message,
    4: string token_id,       // kick only if the connection logged in with this token; "" any
}
struct KickResponse {
    1: bool found,
}

struct DrainRequest {
    1: i32 max_delay_ms,      // clients reconnect after a jittered delay in [0, max_delay_ms)
}
struct DrainResponse {
    1: i32 connections,
}

service GatewayService {
    DeliverResponse Deliver(1: DeliverRequest req) throws (1: common.IMError err),
    KickResponse Kick(1: KickRequest req) throws (1: common.IMError err),
    DrainResponse Drain(1: DrainRequest req) throws (1: common.IMError err),
}
