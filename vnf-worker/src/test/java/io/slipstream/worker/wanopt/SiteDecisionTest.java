package io.slipstream.worker.wanopt;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.slipstream.proto.v1.Site;
import java.util.List;
import org.junit.jupiter.api.Test;

class SiteDecisionTest {

    private static Site site(String name, String... prefixes) {
        return Site.newBuilder().setName(name).addAllPrefixes(List.of(prefixes)).build();
    }

    private final SiteDecision atA = SiteDecision.of(List.of(
            site("a", "198.18.1.0/24", "2001:db8:a::/48"),
            site("b", "198.18.0.0/16", "2001:db8:b::/48")), "a");

    @Test
    void decide_destinationAtAnotherSite_isAccepted_forThatSite() {
        assertThat(atA.decide("198.18.2.9"))
                .isEqualTo(new SiteDecision.Decision(SiteDecision.Outcome.ACCEPTED, "b"));
    }

    @Test
    void decide_destinationAtOwnSite_isOwnSite() {
        assertThat(atA.decide("198.18.1.20"))
                .as("the longer prefix (a's /24) wins over b's /16")
                .isEqualTo(new SiteDecision.Decision(SiteDecision.Outcome.OWN_SITE, "a"));
    }

    @Test
    void decide_destinationInNoSite_isNoSite() {
        assertThat(atA.decide("203.0.113.9")).isEqualTo(new SiteDecision.Decision(SiteDecision.Outcome.NO_SITE, null));
    }

    @Test
    void decide_ipv6Destinations_areLookedUpByTheirIpv6Prefixes() {
        assertThat(atA.decide("2001:db8:b::9").outcome()).isEqualTo(SiteDecision.Outcome.ACCEPTED);
        assertThat(atA.decide("2001:db8:b::9").site()).isEqualTo("b");
        assertThat(atA.decide("2001:db8:a:0:0:0:0:1").outcome()).isEqualTo(SiteDecision.Outcome.OWN_SITE);
        assertThat(atA.decide("2001:db8:c::1").outcome()).isEqualTo(SiteDecision.Outcome.NO_SITE);
        assertThat(atA.decide("::1").outcome()).isEqualTo(SiteDecision.Outcome.NO_SITE);
    }

    @Test
    void decide_ipv4MappedIpv6Destination_isTheIpv4Address() {
        assertThat(atA.decide("::ffff:198.18.2.9"))
                .isEqualTo(new SiteDecision.Decision(SiteDecision.Outcome.ACCEPTED, "b"));
    }

    @Test
    void decide_beforeAnySiteMap_everyDestinationIsInNoSite() {
        SiteDecision none = SiteDecision.none("a");

        assertThat(none.decide("198.18.2.9").outcome()).isEqualTo(SiteDecision.Outcome.NO_SITE);
        assertThat(none.decide("2001:db8:b::9").outcome()).isEqualTo(SiteDecision.Outcome.NO_SITE);
    }

    @Test
    void outcomeTags_areTheMetricTagValues() {
        assertThat(SiteDecision.Outcome.ACCEPTED.tag()).isEqualTo("accepted");
        assertThat(SiteDecision.Outcome.NO_SITE.tag()).isEqualTo("no_site");
        assertThat(SiteDecision.Outcome.OWN_SITE.tag()).isEqualTo("own_site");
    }

    @Test
    void of_prefixThatDoesNotParse_namesTheSiteAndPrefix() {
        assertThatThrownBy(() -> SiteDecision.of(List.of(site("a", "198.18.1.0/24"), site("b", "198.18.0.0/33")), "a"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("sites[1].prefixes[0]")
                .hasMessageContaining("198.18.0.0/33");
    }
}
