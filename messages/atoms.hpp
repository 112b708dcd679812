#pragma once

// CAF predefined atoms used as verbs here: get, put, delete, ok, ping, update, flush,
// connect, publish, subscribe, tick, timeout, join, reset.
#include <caf/atom.hpp>
#include <caf/type_id.hpp>

namespace mtcache {

using caf::connect_atom;
using caf::delete_atom;
using caf::get_atom;
using caf::join_atom;
using caf::ok_atom;
using caf::put_atom;
using caf::update_atom;

using stats_atom = caf::atom_constant<caf::atom("stats")>;
using health_atom = caf::atom_constant<caf::atom("health")>;
using match_atom = caf::atom_constant<caf::atom("match")>;
using clear_atom = caf::atom_constant<caf::atom("clear")>;
using tag_atom = caf::atom_constant<caf::atom("tag")>;
using exists_atom = caf::atom_constant<caf::atom("exists")>;
using miss_atom = caf::atom_constant<caf::atom("miss")>;
using compute_atom = caf::atom_constant<caf::atom("compute")>;
using load_atom = caf::atom_constant<caf::atom("load")>;
using sweep_atom = caf::atom_constant<caf::atom("sweep")>;
using fill_atom = caf::atom_constant<caf::atom("fill")>;
using done_atom = caf::atom_constant<caf::atom("done")>;
using invalidate_atom = caf::atom_constant<caf::atom("invalidate")>;
using broadcast_atom = caf::atom_constant<caf::atom("broadcast")>;
using apply_atom = caf::atom_constant<caf::atom("apply")>;
using recover_atom = caf::atom_constant<caf::atom("recover")>;
using corrupt_atom = caf::atom_constant<caf::atom("corrupt")>;
using repair_atom = caf::atom_constant<caf::atom("repair")>;
using track_atom = caf::atom_constant<caf::atom("track")>;

using retry_atom = caf::atom_constant<caf::atom("retry")>;
using resend_atom = caf::atom_constant<caf::atom("resend")>;
using refresh_atom = caf::atom_constant<caf::atom("refresh")>;
/// Fleet-wide flights: the linked peers a coordinator routes loads over, and a load another
/// node handed to this one, the key's owner.
using fleet_atom = caf::atom_constant<caf::atom("fleet")>;
/// Load leases: a key's lease on the shared Redis tier, and a flight's poll of it.
using lease_atom = caf::atom_constant<caf::atom("lease")>;
/// To a Redis connection: the primary moved (Sentinel), reconnect now.
using switch_atom = caf::atom_constant<caf::atom("switch")>;
using xadd_atom = caf::atom_constant<caf::atom("xadd")>;
using xread_atom = caf::atom_constant<caf::atom("xread")>;
using xlatest_atom = caf::atom_constant<caf::atom("xlatest")>;
using xrange_atom = caf::atom_constant<caf::atom("xrange")>;
using xinfo_atom = caf::atom_constant<caf::atom("xinfo")>;

} // namespace mtcache
