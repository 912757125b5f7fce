output "function_name" {
  description = "Lambda function name."
  value       = aws_lambda_function.api.function_name
}

output "function_arn" {
  description = "Lambda function ARN (unqualified)."
  value       = aws_lambda_function.api.arn
}

output "log_group_name" {
  description = "The function's log group (/aws/lambda/<function>)."
  value       = aws_cloudwatch_log_group.api.name
}

output "ecr_repository_url" {
  description = "ECR repository URL of the image."
  value       = aws_ecr_repository.api.repository_url
}

output "image_uri" {
  description = "Image the function runs (<repository>:<tag>)."
  value       = aws_lambda_function.api.image_uri
}

output "security_group_id" {
  description = "Security group of the function (Redis admits it)."
  value       = aws_security_group.lambda.id
}

output "role_arn" {
  description = "Execution role of the function."
  value       = aws_iam_role.lambda.arn
}
