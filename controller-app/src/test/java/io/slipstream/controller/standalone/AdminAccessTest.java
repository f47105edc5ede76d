package io.slipstream.controller.standalone;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class AdminAccessTest {

    private static final AdminTokens TOKENS = AdminTokens.parse(
            "ops:operator:operator-token-0123456789\nview:viewer:viewer-token-0123456789\n");

    @Test
    void reads_areOpen_unlessRequired() {
        assertThat(AdminAccess.of(TOKENS, false, false).decide("GET", null).allowed).isTrue();
        AdminAccess strict = AdminAccess.of(TOKENS, false, true);
        assertThat(strict.decide("GET", null).status).isEqualTo(401);
        assertThat(strict.decide("GET", "Bearer viewer-token-0123456789").allowed).isTrue();
    }

    @Test
    void mutations_needAnOperatorToken() {
        AdminAccess access = AdminAccess.of(TOKENS, false, false);
        AdminAccess.Decision none = access.decide("PUT", null);
        assertThat(none.status).isEqualTo(401);
        assertThat(none.principal).isEqualTo("anonymous");
        assertThat(access.decide("PUT", "Bearer nope").outcome).isEqualTo("unauthenticated");
        assertThat(access.decide("PUT", "Basic b3BzOnB3").status).isEqualTo(401);
        AdminAccess.Decision viewer = access.decide("POST", "Bearer viewer-token-0123456789");
        assertThat(viewer.status).isEqualTo(403);
        assertThat(viewer.principal).isEqualTo("view");
        AdminAccess.Decision operator = access.decide("DELETE", "bearer  operator-token-0123456789 ");
        assertThat(operator.allowed).isTrue();
        assertThat(operator.principal).isEqualTo("ops");
    }

    @Test
    void noTokens_refusesMutations_unlessInsecure() {
        AdminAccess.Decision d = AdminAccess.disabled().decide("PUT", "Bearer anything");
        assertThat(d.status).isEqualTo(403);
        assertThat(d.error).isEqualTo("admin API disabled: no tokens configured");
        AdminAccess insecure = AdminAccess.of(AdminTokens.none(), true, false);
        assertThat(insecure.decide("PUT", null).allowed).isTrue();
        assertThat(insecure.decide("PUT", null).principal).isEqualTo("anonymous");
    }
}
