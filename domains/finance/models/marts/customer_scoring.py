"""Customer scoring, a Snowpark Python model: every customer of the customer master with their lifetime revenue
and a value segment against the average revenue of their region. Runs unchanged on Snowflake (dbt-snowflake)
and on the embedded engine (Snowpark's local testing session, docs/snowpark.md)."""

from snowflake.snowpark.functions import coalesce, col, count, lit, when
from snowflake.snowpark.functions import sum as sum_
from snowflake.snowpark.types import DecimalType, LongType


def model(dbt, session):
    dbt.config(materialized="table")
    scoring = dbt.config.get("meta")["scoring"]

    customers = dbt.ref("customers", "dim_customers").select("CUSTOMER_ID", "REGION")
    revenue = dbt.ref("customer_revenue").filter(col("REVENUE") > 0)
    regions = revenue.group_by("REGION").agg(
        sum_("REVENUE").alias("REGION_REVENUE"), count("CUSTOMER_ID").alias("REGION_CUSTOMERS")
    )
    scored = customers.join(
        revenue.select("CUSTOMER_ID", "ORDER_COUNT", "REVENUE", "LAST_ORDER_DATE"), on="CUSTOMER_ID", how="left"
    ).join(regions, on="REGION", how="left")

    # revenue >= k x the region's average, without a division: revenue x customers >= k x region revenue
    def at_least(multiple):
        return col("REVENUE") * col("REGION_CUSTOMERS") >= lit(multiple) * col("REGION_REVENUE")

    segment = (
        when(at_least(scoring["high_multiple"]), lit("high"))
        .when(at_least(scoring["medium_multiple"]), lit("medium"))
        .when(col("ORDER_COUNT") > 0, lit("low"))
        .otherwise(lit("none"))
    )
    return scored.select(
        col("CUSTOMER_ID"),
        col("REGION"),
        coalesce(col("ORDER_COUNT"), lit(0)).cast(LongType()).alias("ORDER_COUNT"),
        coalesce(col("REVENUE"), lit(0)).cast(DecimalType(14, 2)).alias("REVENUE"),
        col("LAST_ORDER_DATE"),
        segment.alias("SEGMENT"),
    )
