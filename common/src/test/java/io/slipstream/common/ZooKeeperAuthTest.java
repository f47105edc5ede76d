package io.slipstream.common;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.data.ACL;
import org.apache.zookeeper.data.Id;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ZooKeeperAuthTest {

    @Test
    void parse_userColonPasswordLine_enablesDigestWithCreatorAllAndWorldRead() {
        ZooKeeperAuth auth = ZooKeeperAuth.parse("# fleet\nslipstream:correct-horse-battery\n");
        assertThat(auth.enabled()).isTrue();
        assertThat(auth.user()).isEqualTo("slipstream");
        assertThat(auth.acl()).containsExactly(
                new ACL(ZooDefs.Perms.ALL, ZooDefs.Ids.AUTH_IDS),
                new ACL(ZooDefs.Perms.READ, ZooDefs.Ids.ANYONE_ID_UNSAFE));
    }

    @Test
    void parse_properties_addsFleetDigestsWithAll() {
        String digest = ZooKeeperAuth.digestOf("controller:another-password");
        ZooKeeperAuth auth = ZooKeeperAuth.parse("user=worker\npassword=worker-password\nfleet.digests=" + digest + "\n");
        assertThat(auth.acl()).contains(new ACL(ZooDefs.Perms.ALL, new Id("digest", digest)));
        assertThat(auth.acl()).noneMatch(a -> a.getId().getScheme().equals("world") && a.getPerms() != ZooDefs.Perms.READ);
    }

    @Test
    void digestOf_matchesZooKeepersOwnDigest() throws Exception {
        assertThat(ZooKeeperAuth.digestOf("worker:secret-password")).isEqualTo(
                org.apache.zookeeper.server.auth.DigestAuthenticationProvider.generateDigest("worker:secret-password"));
    }

    @Test
    void toStringAndErrors_neverContainThePassword() {
        ZooKeeperAuth auth = ZooKeeperAuth.parse("user=worker\npassword=hunter2-hunter2\n");
        assertThat(auth.toString()).contains("worker").doesNotContain("hunter2");
        assertThatThrownBy(() -> ZooKeeperAuth.parse("user=worker\npassword=short\n"))
                .hasMessageContaining("at least 8").hasMessageNotContaining("short");
    }

    @Test
    void parse_badInput_saysWhatWasExpected() {
        assertThatThrownBy(() -> ZooKeeperAuth.parse("justapassword")).hasMessageContaining("user:password");
        assertThatThrownBy(() -> ZooKeeperAuth.parse("user=a b\npassword=long-enough-pw"))
                .hasMessageContaining("user: 'a b'");
        assertThatThrownBy(() -> ZooKeeperAuth.parse("user=w\npassword=long-enough-pw\npasword=typo"))
                .hasMessageContaining("unknown key 'pasword'");
        assertThatThrownBy(() -> ZooKeeperAuth.parse("user=w\npassword=long-enough-pw\nfleet.digests=ops:plain"))
                .hasMessageContaining("fleet.digests entry 'ops:plain'");
        assertThatThrownBy(() -> ZooKeeperAuth.parse("")).hasMessageContaining("user");
    }

    @Test
    void load_missingFile_namesTheFile(@TempDir Path dir) throws Exception {
        assertThatThrownBy(() -> ZooKeeperAuth.load(dir.resolve("nope")))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("nope");
        Path file = Files.writeString(dir.resolve("zk-auth"), "user=w\npassword=long-enough-pw\n");
        assertThat(ZooKeeperAuth.load(file).user()).isEqualTo("w");
        assertThat(ZooKeeperAuth.load(null).enabled()).isFalse();
        assertThat(ZooKeeperAuth.none().acl()).isEqualTo(ZooDefs.Ids.OPEN_ACL_UNSAFE);
    }
}
