package io.slipstream.controller.standalone;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class AdminTokensTest {

    private static final String OPS_TOKEN = "ops-token-0123456789abcdef";

    @Test
    void parse_hashedAndPlainLines_authenticateByToken() {
        AdminTokens tokens = AdminTokens.parse("# admin tokens\n"
                + "alice operator " + AdminTokens.hashHex(OPS_TOKEN) + "\n"
                + "\n"
                + "grafana:viewer:viewer-token-0123456789\n");
        assertThat(tokens.size()).isEqualTo(2);
        assertThat(tokens.authenticate(OPS_TOKEN)).hasValueSatisfying(p -> {
            assertThat(p.name()).isEqualTo("alice");
            assertThat(p.role()).isEqualTo(AdminTokens.Role.OPERATOR);
        });
        assertThat(tokens.authenticate("viewer-token-0123456789")).map(AdminTokens.Principal::role)
                .hasValue(AdminTokens.Role.VIEWER);
        assertThat(tokens.authenticate("wrong")).isEmpty();
        assertThat(tokens.authenticate("")).isEmpty();
        assertThat(tokens.authenticate(null)).isEmpty();
    }

    @Test
    void hashHex_isTheSha256OfTheToken() {
        assertThat(AdminTokens.hashHex("abc"))
                .isEqualTo("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }

    @Test
    void parse_badLines_nameTheLineButNeverTheToken() {
        assertThatThrownBy(() -> AdminTokens.parse("a root " + AdminTokens.hashHex("x")))
                .hasMessageContaining("line 1").hasMessageContaining("role: 'root' (expected: viewer or operator)");
        assertThatThrownBy(() -> AdminTokens.parse("a operator not-a-hash"))
                .hasMessageContaining("SHA-256 hex");
        assertThatThrownBy(() -> AdminTokens.parse("\nbob:operator:short-secret"))
                .hasMessageContaining("line 2").hasMessageContaining("at least 16").hasMessageNotContaining("short-secret");
        assertThatThrownBy(() -> AdminTokens.parse("a:operator:0123456789abcdefg\na:viewer:0123456789abcdefh"))
                .hasMessageContaining("appears twice");
        assertThatThrownBy(() -> AdminTokens.parse("just-one-word")).hasMessageContaining("name role sha256-hex");
        assertThatThrownBy(() -> AdminTokens.parse("b@d name:operator:0123456789abcdefg"))
                .hasMessageContaining("line 1");
    }
}
