import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

import suggestions.fields


class Migration(migrations.Migration):

    dependencies = [
        ('suggestions', '0005_deadline_basis_extension_requests'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name='suggestion',
            name='search_document',
            field=suggestions.fields.SearchDocumentField(blank=True, default='', editable=False, verbose_name='search document'),
        ),
        migrations.AddIndex(
            model_name='suggestion',
            index=models.Index(fields=['number'], name='suggestion_number_idx'),
        ),
        migrations.AddIndex(
            model_name='suggestion',
            index=models.Index(fields=['due_on'], name='suggestion_due_on_idx'),
        ),
        migrations.CreateModel(
            name='SuggestionLink',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('kind', models.CharField(choices=[('similar', 'similar'), ('merged', 'merged handling')], default='similar', max_length=10, verbose_name='kind')),
                ('note', models.TextField(blank=True, verbose_name='note')),
                ('created_at', models.DateTimeField(default=django.utils.timezone.now, verbose_name='created at')),
                ('created_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('first', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='suggestions.suggestion')),
                ('second', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='suggestions.suggestion')),
            ],
            options={
                'verbose_name': 'suggestion link',
                'verbose_name_plural': 'suggestion links',
                'constraints': [
                    models.UniqueConstraint(fields=('first', 'second'), name='unique_suggestion_link'),
                    models.CheckConstraint(condition=models.Q(('first__lt', models.F('second'))), name='suggestion_link_ordered'),
                ],
            },
        ),
    ]
