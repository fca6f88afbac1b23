package io.stateversions.api.ui;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;

import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.path.json.JsonPath;
import io.stateversions.testing.Browser;
import io.stateversions.testing.InspectedShard;
import java.net.URL;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.interactions.Actions;
import org.openqa.selenium.support.ui.ExpectedConditions;

/**
 * The web inspector in headless Chromium, against the service under test (security off, as in development): the shard
 * page of a shard with readers, writers, rollups and a GC shows the numbers the REST API gives, the timeline's hold
 * and rollup markers match the state, clicking a version shows the state at it (its upper), a new append appears
 * without a reload (the page follows the SSE watch), and the maintenance buttons work. Screenshots go to
 * {@code target/screenshots}.
 */
@QuarkusTest
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class InspectorBrowserTest {

    @TestHTTPResource("/")
    URL base;

    private Browser browser;
    private InspectedShard shard;

    /** Once, before the first test (RestAssured knows the service's port only from then on). */
    @BeforeEach
    void start() {
        if (shard == null) {
            shard = InspectedShard.build(null, 24);
            browser = new Browser();
        }
    }

    @AfterAll
    void stop() {
        if (browser != null) {
            browser.close();
        }
    }

    private void open(String path) {
        browser.driver.get(base.toString().replaceAll("/$", "") + path);
    }

    private String text(String css) {
        return browser.driver.findElement(By.cssSelector(css)).getText();
    }

    @Test
    void shardPageShowsTheStateTheApiGives() {
        JsonPath state = shard.state();
        open("/ui/shards/" + shard.shard);
        browser.waiting().until(ExpectedConditions.presenceOfElementLocated(By.id("summary")));
        browser.screenshot("inspector-shard");

        assertThat(text("#shard-id")).isEqualTo(shard.shard.toString());
        assertThat(text("#seqno")).isEqualTo(state.getString("seqno"));
        assertThat(text("#earliest")).isEqualTo(state.getString("earliestSeqno"));
        assertThat(state.getLong("earliestSeqno")).as("the GC truncated").isGreaterThan(1);
        assertThat(text("#seqno-since")).isEqualTo(state.getString("seqnoSince"));
        assertThat(text("#upper")).isEqualTo(state.getList("upper").toString());
        assertThat(text("#since")).isEqualTo(state.getList("since").toString());
        assertThat(text("#tombstone")).isEqualTo("false");
        assertThat(text("#batch-count")).isEqualTo(state.getString("stats.batchCount"));
        assertThat(text("#part-count")).isEqualTo(state.getString("stats.partCount"));
        assertThat(text("#rollup-count")).isEqualTo(String.valueOf(state.getList("rollups").size()));
        assertThat(text("#codecs")).contains("key bytes", "val unit", "ts u64", "diff i64");

        // Handles: every reader and writer of the state, with its lease counting down.
        for (Map<String, Object> reader : state.<Map<String, Object>>getList("leasedReaders")) {
            WebElement row = browser.driver.findElement(By.cssSelector("#leased-readers tr[data-reader='"
                    + reader.get("readerId") + "']"));
            assertThat(row.findElement(By.cssSelector(".hold-seqno")).getText()).isEqualTo(
                    String.valueOf(reader.get("seqno")));
            assertThat(row.findElement(By.cssSelector(".expiry")).getText()).startsWith("in ");
        }
        assertThat(browser.driver.findElements(By.cssSelector("#leased-readers tr[data-reader]"))).hasSize(2);
        assertThat(browser.driver.findElements(By.cssSelector("#critical-readers tr[data-reader]"))).hasSize(1);
        assertThat(browser.driver.findElement(By.cssSelector("#writers tr[data-writer='" + shard.writer + "']"))
                .getText()).contains("ingest");

        // The trace: one box per batch, the inputs of outstanding merge requests highlighted.
        List<?> mergeRequests = given().get(shard.path("/merge-requests")).then().statusCode(200).extract()
                .jsonPath().getList("mergeRequests");
        assertThat(browser.driver.findElements(By.cssSelector("#trace rect.batch")))
                .hasSize(state.getList("batches").size());
        assertThat(text("#merge-count")).isEqualTo(String.valueOf(mergeRequests.size()));
        assertThat(browser.driver.findElements(By.cssSelector("#trace rect.merge-req"))).hasSize(mergeRequests.size());
    }

    @Test
    void timelineMarkersMatchTheState() {
        JsonPath state = shard.state();
        open("/ui/shards/" + shard.shard);
        browser.waiting().until(ExpectedConditions.presenceOfElementLocated(By.id("timeline")));

        Map<String, String> holds = new HashMap<>();
        for (WebElement hold : browser.driver.findElements(By.cssSelector("#timeline polygon.hold"))) {
            holds.put(hold.getAttribute("data-reader"), hold.getAttribute("data-seqno"));
        }
        Map<String, String> expected = state.<Map<String, Object>>getList("leasedReaders").stream().collect(
                Collectors.toMap(r -> (String) r.get("readerId"), r -> String.valueOf(r.get("seqno"))));
        assertThat(holds).isEqualTo(expected).hasSize(2);

        List<String> rollups = browser.driver.findElements(By.cssSelector("#timeline polygon.rollup")).stream()
                .map(r -> r.getAttribute("data-seqno")).toList();
        assertThat(rollups).containsExactlyElementsOf(state.<Map<String, Object>>getList("rollups").stream()
                .map(r -> String.valueOf(r.get("seqno"))).toList());
        assertThat(browser.driver.findElement(By.cssSelector("#timeline line.earliest")).getAttribute("data-seqno"))
                .isEqualTo(state.getString("earliestSeqno"));
        assertThat(browser.driver.findElement(By.cssSelector("#timeline line.seqno-since")).getAttribute("data-seqno"))
                .isEqualTo(state.getString("seqnoSince"));
        // One bar per live version.
        assertThat(browser.driver.findElements(By.cssSelector("#timeline rect.version")))
                .hasSize((int) (state.getLong("seqno") - state.getLong("earliestSeqno") + 1));

        // Hovering a hold shows the reader, its lease and the time to its expiry.
        WebElement hold = browser.driver.findElement(By.cssSelector("#timeline polygon.hold[data-reader='"
                + shard.readers.get(0) + "']"));
        new Actions(browser.driver).moveToElement(hold).perform();
        browser.waiting().until(ExpectedConditions.visibilityOfElementLocated(By.id("tooltip")));
        assertThat(text("#tooltip")).contains(shard.readers.get(0), "purpose: dashboard", "lease 15m 0s",
                "expires in ");
        browser.screenshot("inspector-hold-tooltip");
    }

    @Test
    void clickingAVersionShowsTheStateAtIt() {
        long n = shard.heldAppend;
        JsonPath then = given().get(shard.path("/versions/" + n)).then().statusCode(200).extract().jsonPath();
        assertThat(then.getList("upper").toString()).isNotEqualTo(shard.state().getList("upper").toString());
        open("/ui/shards/" + shard.shard);
        WebElement bar = browser.waiting().until(ExpectedConditions.presenceOfElementLocated(
                By.cssSelector("#timeline rect.version[data-seqno='" + n + "']")));
        assertThat(bar.getAttribute("class")).contains("append");
        new Actions(browser.driver).moveToElement(bar).click().perform();

        browser.waiting().until(ExpectedConditions.presenceOfElementLocated(By.id("version-seqno")));
        assertThat(browser.driver.getCurrentUrl()).endsWith("/ui/shards/" + shard.shard + "/versions/" + n);
        assertThat(text("#version-seqno")).isEqualTo(String.valueOf(n));
        assertThat(text("#upper")).isEqualTo(then.getList("upper").toString());
        assertThat(text("#batch-count")).isEqualTo(then.getString("stats.batchCount"));
        assertThat(text("#changes")).contains("batches", "insert");
        browser.screenshot("inspector-version");
    }

    @Test
    void aNewAppendAppearsWithoutAReload() {
        open("/ui/shards/" + shard.shard);
        browser.waiting().until(ExpectedConditions.attributeContains(By.id("follow"), "class", "on"));
        JavascriptExecutor js = (JavascriptExecutor) browser.driver;
        js.executeScript("window.inspectorTestMarker = 'same page';");

        long seqno = shard.append();
        browser.waiting().until(ExpectedConditions.presenceOfElementLocated(
                By.cssSelector("#timeline rect.version[data-seqno='" + seqno + "']")));
        browser.waiting().until(ExpectedConditions.textToBe(By.id("seqno"), String.valueOf(seqno)));
        assertThat(text("#upper")).isEqualTo(shard.state().getList("upper").toString());
        assertThat(js.executeScript("return window.inspectorTestMarker;")).as("the page was not reloaded")
                .isEqualTo("same page");
        browser.screenshot("inspector-live");
    }

    @Test
    void maintenanceButtonsRunMaintenance() {
        open("/ui/shards/" + shard.shard);
        WebElement rollup = browser.waiting().until(ExpectedConditions.elementToBeClickable(By.id("rollup")));
        rollup.click();
        browser.waiting().until(ExpectedConditions.presenceOfElementLocated(By.id("notice")));
        assertThat(text("#notice")).containsAnyOf("Rollup", "No rollup needed");
        browser.waiting().until(ExpectedConditions.elementToBeClickable(By.id("gc"))).click();
        browser.waiting().until(ExpectedConditions.textMatches(By.id("notice"), java.util.regex.Pattern.compile(
                "^GC at ")));
        assertThat(text("#seqno")).isEqualTo(shard.state().getString("seqno"));
    }

    @Test
    void shardListAndLookup() {
        open("/ui");
        browser.waiting().until(ExpectedConditions.presenceOfElementLocated(By.id("lookup")));
        browser.driver.findElement(By.id("lookup")).sendKeys("not-a-shard");
        browser.driver.findElement(By.id("lookup-go")).click();
        browser.waiting().until(ExpectedConditions.presenceOfElementLocated(By.id("lookup-error")));
        assertThat(text("#lookup-error")).contains("invalid shard id");

        browser.driver.findElement(By.id("lookup")).sendKeys(shard.shard.toString());
        browser.driver.findElement(By.id("lookup-go")).click();
        browser.waiting().until(ExpectedConditions.textToBe(By.id("shard-id"), shard.shard.toString()));

        // The list pages through every shard; ours is on one of the pages.
        open("/ui");
        boolean found = false;
        while (!found) {
            found = !browser.driver.findElements(By.cssSelector("a.shard[href='/ui/shards/" + shard.shard + "']"))
                    .isEmpty();
            List<WebElement> next = browser.driver.findElements(By.id("next-page"));
            if (found || next.isEmpty()) {
                break;
            }
            next.get(0).click();
        }
        assertThat(found).as("shard %s listed", shard.shard).isTrue();
    }
}
