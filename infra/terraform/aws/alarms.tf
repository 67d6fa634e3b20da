# CloudWatch alarms on what needs a person: each service's 5xx rate and latency at the load balancer, ECS tasks
# that died and are being replaced, the database's CPU and free storage, evictions from Redis. Every alarm,
# and its return to OK, goes to one SNS topic (encrypted with the suite's key); alarm_email subscribes an
# address to it (AWS asks that address to confirm), and a pager or chat integration can subscribe too.
resource "aws_sns_topic" "alarms" {
  name              = "${local.name}-alarms"
  kms_master_key_id = aws_kms_key.main.id
}

resource "aws_sns_topic_subscription" "alarm_email" {
  count     = var.alarm_email == null ? 0 : 1
  topic_arn = aws_sns_topic.alarms.arn
  protocol  = "email"
  endpoint  = var.alarm_email
}

locals {
  alarm_actions = [aws_sns_topic.alarms.arn]
  # gunicorn gives a request 60 s; a p95 above 2 s for five minutes is already a slow service for a person.
  latency_p95_seconds = 2
  # Redis nodes of the replication group: <group id>-001, -002, ... (cluster mode disabled).
  redis_nodes = [for i in range(1 + local.environment.redis_replicas) : format("%s-%03d", local.name, i + 1)]
}

resource "aws_cloudwatch_metric_alarm" "http_5xx_rate" {
  for_each = local.services

  alarm_name          = "${local.name}-${each.key}-5xx-rate"
  alarm_description   = "Over 5% of ${each.key}'s answers through the load balancer were 5xx, five minutes running."
  comparison_operator = "GreaterThanThreshold"
  threshold           = 5
  evaluation_periods  = 5
  datapoints_to_alarm = 5
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions

  metric_query {
    id          = "rate"
    expression  = "IF(requests > 0, 100 * FILL(errors, 0) / requests, 0)"
    label       = "5xx answers, % of requests"
    return_data = true
  }

  metric_query {
    id = "errors"
    metric {
      namespace   = "AWS/ApplicationELB"
      metric_name = "HTTPCode_Target_5XX_Count"
      period      = 60
      stat        = "Sum"
      dimensions = {
        LoadBalancer = aws_lb.main.arn_suffix
        TargetGroup  = aws_lb_target_group.service[each.key].arn_suffix
      }
    }
  }

  metric_query {
    id = "requests"
    metric {
      namespace   = "AWS/ApplicationELB"
      metric_name = "RequestCount"
      period      = 60
      stat        = "Sum"
      dimensions = {
        LoadBalancer = aws_lb.main.arn_suffix
        TargetGroup  = aws_lb_target_group.service[each.key].arn_suffix
      }
    }
  }
}

resource "aws_cloudwatch_metric_alarm" "latency_p95" {
  for_each = local.services

  alarm_name          = "${local.name}-${each.key}-latency-p95"
  alarm_description   = "${each.key}'s p95 response time at the load balancer was over ${local.latency_p95_seconds} s, five minutes running."
  namespace           = "AWS/ApplicationELB"
  metric_name         = "TargetResponseTime"
  extended_statistic  = "p95"
  period              = 60
  comparison_operator = "GreaterThanThreshold"
  threshold           = local.latency_p95_seconds
  evaluation_periods  = 5
  datapoints_to_alarm = 5
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
  dimensions = {
    LoadBalancer = aws_lb.main.arn_suffix
    TargetGroup  = aws_lb_target_group.service[each.key].arn_suffix
  }
}

# ECS replaces a task that exits or fails its health check; while it does, fewer tasks run than desired
# (deployments start new tasks before stopping old ones, so they do not count). Container Insights is on.
resource "aws_cloudwatch_metric_alarm" "task_restarts" {
  for_each = merge(local.services, local.workers)

  alarm_name          = "${local.name}-${each.key}-task-restarts"
  alarm_description   = "Fewer ${each.key} tasks ran than desired for three minutes: tasks are dying and being replaced."
  comparison_operator = "GreaterThanThreshold"
  threshold           = 0
  evaluation_periods  = 3
  datapoints_to_alarm = 3
  treat_missing_data  = "breaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions

  metric_query {
    id          = "missing"
    expression  = "desired - running"
    label       = "tasks desired but not running"
    return_data = true
  }

  metric_query {
    id = "desired"
    metric {
      namespace   = "ECS/ContainerInsights"
      metric_name = "DesiredTaskCount"
      period      = 60
      stat        = "Average"
      dimensions  = { ClusterName = aws_ecs_cluster.main.name, ServiceName = each.key }
    }
  }

  metric_query {
    id = "running"
    metric {
      namespace   = "ECS/ContainerInsights"
      metric_name = "RunningTaskCount"
      period      = 60
      stat        = "Average"
      dimensions  = { ClusterName = aws_ecs_cluster.main.name, ServiceName = each.key }
    }
  }
}

resource "aws_cloudwatch_metric_alarm" "database_cpu" {
  alarm_name          = "${local.name}-database-cpu"
  alarm_description   = "The database's CPU was over 80% for fifteen minutes."
  namespace           = "AWS/RDS"
  metric_name         = "CPUUtilization"
  statistic           = "Average"
  period              = 300
  comparison_operator = "GreaterThanThreshold"
  threshold           = 80
  evaluation_periods  = 3
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
  dimensions          = { DBInstanceIdentifier = aws_db_instance.postgres.identifier }
}

# Storage autoscaling grows the volume when 10% is left, at most every six hours and up to its maximum:
# free space still under 10% after that means it cannot keep up or has reached its ceiling.
resource "aws_cloudwatch_metric_alarm" "database_storage" {
  alarm_name          = "${local.name}-database-free-storage"
  alarm_description   = "The database had under 10% of its allocated storage free for fifteen minutes."
  namespace           = "AWS/RDS"
  metric_name         = "FreeStorageSpace"
  statistic           = "Minimum"
  period              = 300
  comparison_operator = "LessThanThreshold"
  threshold           = local.environment.db_storage_gb * 0.1 * 1024 * 1024 * 1024
  evaluation_periods  = 3
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
  dimensions          = { DBInstanceIdentifier = aws_db_instance.postgres.identifier }
}

# The cache is a cache, but evictions mean it is too small for the working set (GET /loads turns to misses).
resource "aws_cloudwatch_metric_alarm" "redis_evictions" {
  for_each = toset(local.redis_nodes)

  alarm_name          = "${local.name}-redis-evictions-${each.key}"
  alarm_description   = "Redis node ${each.key} evicted keys in each of the last three five-minute periods."
  namespace           = "AWS/ElastiCache"
  metric_name         = "Evictions"
  statistic           = "Sum"
  period              = 300
  comparison_operator = "GreaterThanThreshold"
  threshold           = 0
  evaluation_periods  = 3
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
  dimensions          = { CacheClusterId = each.key }

  depends_on = [aws_elasticache_replication_group.redis]
}
